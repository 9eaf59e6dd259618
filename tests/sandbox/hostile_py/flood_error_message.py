# expect: runtime
# message: ValueError
# timeout-ms: 10000
raise ValueError('e' * (10 << 20))
