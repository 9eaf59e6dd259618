# expect: ok
# message: blocked
import os
try:
    os.link('{{OTHER_WS}}/canary.txt', 'hard_link')
    verdict = 'ALLOWED'
except (OSError, RuntimeError, ValueError) as e:
    verdict = 'blocked ' + type(e).__name__
verdict
