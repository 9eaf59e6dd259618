# expect: ok
# message: contained
import os
os.symlink('../../../../../../..', 'up')
names = set(os.listdir('up'))
os.unlink('up')
'contained' if not names & {'root', 'home', 'work'} else 'SEES %r' % sorted(names)
