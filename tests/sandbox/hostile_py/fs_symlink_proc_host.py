# expect: ok
# message: blocked
import os
os.symlink('/proc/{{HOST_PID}}/root', 'host_root')
try:
    verdict = 'SEES %r' % os.listdir('host_root')[:5]
except OSError as e:
    verdict = 'blocked ' + type(e).__name__
os.unlink('host_root')
verdict
