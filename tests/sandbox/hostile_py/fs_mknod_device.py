# expect: ok
# message: blocked
import os
try:
    os.mknod('devnode', 0o20600, os.makedev(1, 3))
    verdict = 'ALLOWED'
except (OSError, RuntimeError, ValueError) as e:
    verdict = 'blocked ' + type(e).__name__
verdict
