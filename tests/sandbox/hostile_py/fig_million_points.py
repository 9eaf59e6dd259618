# expect: ok
# message: drawn
# timeout-ms: 60000
import matplotlib.pyplot as plt
plt.plot(range(3 * 10**6))
'drawn'
