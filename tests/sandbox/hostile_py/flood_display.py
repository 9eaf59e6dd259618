# expect: ok
# message: done
# timeout-ms: 30000
# output: truncated
from IPython.display import display
for i in range(20000):
    display('d' * 20)
'done'
