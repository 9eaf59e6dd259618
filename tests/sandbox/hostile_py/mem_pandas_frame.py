# expect: memory
# message: MemoryError
import pandas as pd, numpy as np
df = pd.DataFrame(np.ones((1 << 15, 1 << 15)))
