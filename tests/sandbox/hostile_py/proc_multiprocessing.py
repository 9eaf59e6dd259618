# expect: ok
# message: blocked
import multiprocessing
try:
    with multiprocessing.Pool(2) as p:
        verdict = 'RAN %r' % p.map(abs, [-1, -2])
except (OSError, RuntimeError) as e:
    verdict = 'blocked ' + type(e).__name__
verdict
