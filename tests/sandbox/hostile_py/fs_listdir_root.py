# expect: ok
# message: contained
import os
top = set(os.listdir('/'))
bad = top & {'root', 'home', 'work', 'boot', 'sys', 'srv', 'opt', 'mnt', 'media', 'snap'}
'contained' if not bad else 'SEES %r' % sorted(bad)
