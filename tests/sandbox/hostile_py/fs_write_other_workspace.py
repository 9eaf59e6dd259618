# expect: ok
# message: blocked
# Opened without O_CREAT: the other session's file, not a copy an earlier cell may have made in the jail.
import os
try:
    fd = os.open('{{OTHER_WS}}/canary.txt', os.O_WRONLY)
    os.write(fd, b'written by the sandbox'); os.close(fd)
    verdict = 'WROTE'
except OSError as e:
    verdict = 'blocked ' + type(e).__name__
verdict
