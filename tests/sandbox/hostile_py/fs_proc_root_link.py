# expect: ok
# message: contained
import os
names = set(os.listdir('/proc/1/root/'))
'contained' if not names & {'root', 'home', 'work'} else 'SEES %r' % sorted(names)
