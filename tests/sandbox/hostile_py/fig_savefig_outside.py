# expect: runtime
# message: OSError
# timeout-ms: 20000
import matplotlib.pyplot as plt
plt.plot([1, 2])
plt.savefig('/usr/share/evil.png')
