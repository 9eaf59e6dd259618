# expect: ok
# message: done
# timeout-ms: 20000
# output: truncated
import sys
for i in range(100000):
    sys.stderr.write('err %d\n' % i)
'done'
