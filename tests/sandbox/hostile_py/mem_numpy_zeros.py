# expect: memory
# message: MemoryError
import numpy as np
a = np.ones((1 << 17, 1 << 14))
