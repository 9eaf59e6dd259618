# expect: ok
# message: blocked
import os
try:
    os.posix_spawn('/usr/bin/id', ['id'], {})
    verdict = 'ALLOWED'
except (OSError, RuntimeError, ValueError) as e:
    verdict = 'blocked ' + type(e).__name__
verdict
