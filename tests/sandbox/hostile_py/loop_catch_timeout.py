# expect: killed
# message: state was reset
# timeout-ms: 400
try:
    while True:
        pass
except BaseException:
    while True:
        pass
