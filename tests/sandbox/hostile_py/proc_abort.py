# expect: crashed
# message: signal
# PID 1 ignores its own SIGABRT; abort() then faults, which kills even a PID 1.
import os
os.abort()
