# expect: ok
# message: done
# timeout-ms: 20000
# output: truncated
for i in range(200000):
    print('line', i)
'done'
