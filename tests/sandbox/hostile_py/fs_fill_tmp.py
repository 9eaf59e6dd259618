# expect: ok
# message: No space left
try:
    with open('/tmp/fill.bin', 'wb') as f:
        for i in range(64):
            f.write(b'x' * (1 << 20))
    verdict = 'WROTE 64 MB'
except OSError as e:
    verdict = 'blocked ' + e.strerror
import os
os.unlink('/tmp/fill.bin')
verdict
