# expect: ok
# message: made 200
# timeout-ms: 60000
import matplotlib.pyplot as plt
for i in range(200):
    plt.figure()
'made 200'
