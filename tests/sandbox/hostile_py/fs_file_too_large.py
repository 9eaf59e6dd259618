# expect: ok
# message: File too large
try:
    with open('big.bin', 'wb') as f:
        f.write(b'x' * (40 << 20))
    verdict = 'WROTE 40 MB'
except OSError as e:
    verdict = 'blocked ' + e.strerror
import os
os.unlink('big.bin')
verdict
