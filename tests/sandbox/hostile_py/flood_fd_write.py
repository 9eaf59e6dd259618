# expect: ok
# message: contained
# timeout-ms: 10000
import os
for i in range(100):
    os.write(1, b'x' * (1 << 20))
    os.write(2, b'y' * (1 << 20))
'contained: the descriptors lead nowhere'
