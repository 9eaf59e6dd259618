# expect: ok
# message: blocked after
# timeout-ms: 10000
import threading, time
threads = []
try:
    for i in range(100000):
        t = threading.Thread(target=time.sleep, args=(2,), daemon=True)
        t.start()
        threads.append(t)
    verdict = 'STARTED %d' % len(threads)
except RuntimeError as e:
    verdict = 'blocked after %d threads: %s' % (len(threads), e)
verdict
