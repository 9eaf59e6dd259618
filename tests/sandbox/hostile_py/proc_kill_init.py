# expect: ok
# message: survived
# PID 1 of a namespace ignores SIGKILL from inside it.
import os
os.kill(1, 9)
'survived'
