# expect: ok
# message: drawn
# timeout-ms: 20000
import matplotlib.pyplot as plt
plt.figure(dpi=100000)
plt.plot([1, 2, 3])
'drawn'
