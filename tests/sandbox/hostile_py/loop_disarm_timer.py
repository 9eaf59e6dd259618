# expect: killed
# message: state was reset
# timeout-ms: 400
import signal
signal.setitimer(signal.ITIMER_REAL, 0)
while True:
    pass
