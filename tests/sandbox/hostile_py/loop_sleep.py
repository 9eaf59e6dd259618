# expect: timeout
# message: TimeoutError
# timeout-ms: 400
import time
time.sleep(3600)
