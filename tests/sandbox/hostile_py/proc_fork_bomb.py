# expect: ok
# message: blocked PermissionError after 0
import os
made = 0
try:
    while True:
        if os.fork() == 0:
            os._exit(0)
        made += 1
except OSError as e:
    verdict = 'blocked %s after %d' % (type(e).__name__, made)
verdict
