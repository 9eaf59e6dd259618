# expect: ok
# message: blocked
import os
try:
    os.kill({{HOST_PID}}, 9)
    verdict = 'SENT'
except OSError as e:
    verdict = 'blocked ' + type(e).__name__
verdict
