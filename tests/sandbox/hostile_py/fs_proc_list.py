# expect: ok
# message: contained
import os
pids = sorted(int(p) for p in os.listdir('/proc') if p.isdigit())
'contained' if pids == [1] else 'SEES %r' % pids[:20]
