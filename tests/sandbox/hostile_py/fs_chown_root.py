# expect: ok
# message: blocked
import os
try:
    open('owned.txt', 'w').write('x'); os.chown('owned.txt', 0, 0)
    verdict = 'ALLOWED'
except (OSError, RuntimeError, ValueError) as e:
    verdict = 'blocked ' + type(e).__name__
verdict
