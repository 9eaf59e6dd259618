# expect: killed
# message: state was reset
# timeout-ms: 400
import signal
signal.signal(signal.SIGALRM, signal.SIG_IGN)
while True:
    pass
