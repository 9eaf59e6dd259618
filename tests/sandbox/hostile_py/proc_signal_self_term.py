# expect: ok
# message: survived
# PID 1 ignores signals it has no handler for, even from itself.
import os, signal
os.kill(os.getpid(), signal.SIGTERM)
'survived'
