# expect: ok
# message: drawn
# timeout-ms: 20000
import matplotlib.pyplot as plt
plt.plot([float('nan'), float('inf'), 1, -float('inf')])
'drawn'
