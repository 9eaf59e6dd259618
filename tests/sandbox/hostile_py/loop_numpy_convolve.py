# expect: killed
# message: state was reset
# timeout-ms: 400
# One long C call (10^12 multiplications) that never returns to the interpreter to see its deadline.
import numpy as np
np.convolve(np.ones(10**6), np.ones(10**6))
