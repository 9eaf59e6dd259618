# expect: memory
# state: reset
# message: MemoryError
# timeout-ms: 10000
import numpy as np
keep = []
while True:
    keep.append(np.ones(1 << 22))
