# expect: ok
# message: blocked
import os
try:
    os.setuid(0)
    verdict = 'ALLOWED'
except (OSError, RuntimeError, ValueError) as e:
    verdict = 'blocked ' + type(e).__name__
verdict
