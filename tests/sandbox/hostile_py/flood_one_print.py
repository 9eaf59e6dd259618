# expect: ok
# message: done
# timeout-ms: 10000
# output: truncated
print('x' * (20 << 20))
'done'
