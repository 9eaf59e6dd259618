# expect: ok
# message: more characters cut
# timeout-ms: 10000
'v' * (10 << 20)
