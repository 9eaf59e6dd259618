# expect: ok
# message: survived, parent 0
# The jail's PID 1 has no parent it can see: getppid() is 0, and kill(0) reaches only its own process
# group, the session itself, which as PID 1 ignores a SIGKILL from inside its namespace.
import os
parent = os.getppid()
os.kill(parent, 9)
'survived, parent %d' % parent
