# expect: killed
# message: state was reset
# timeout-ms: 400
import signal
signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGALRM})
while True:
    pass
