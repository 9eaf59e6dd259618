# expect: ok
# message: blocked
import os, signal
try:
    os.kill(-1, signal.SIGKILL)
    verdict = 'contained: no other process here'
except OSError as e:
    verdict = 'blocked ' + type(e).__name__
verdict
