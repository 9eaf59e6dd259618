# expect: ok
# message: blocked
import os
try:
    os.execv('/usr/bin/python3', ['python3', '-c', 'print(1)'])
    verdict = 'ALLOWED'
except (OSError, RuntimeError, ValueError) as e:
    verdict = 'blocked ' + type(e).__name__
verdict
