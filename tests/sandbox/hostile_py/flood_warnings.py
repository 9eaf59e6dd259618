# expect: ok
# message: done
# timeout-ms: 30000
# output: truncated
import warnings
warnings.simplefilter('always')
for i in range(50000):
    warnings.warn('w%d' % i)
'done'
