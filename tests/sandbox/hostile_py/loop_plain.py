# expect: timeout
# message: TimeoutError
# timeout-ms: 400
while True:
    pass
