# expect: ok
# message: blocked
import os
try:
    os.link('/usr/bin/python3', 'hard_link')
    verdict = 'ALLOWED'
except (OSError, RuntimeError, ValueError) as e:
    verdict = 'blocked ' + type(e).__name__
verdict
