# expect: ok
# message: blocked
import os
try:
    os.popen('id').read() or (_ for _ in ()).throw(OSError('no output'))
    verdict = 'ALLOWED'
except (OSError, RuntimeError, ValueError) as e:
    verdict = 'blocked ' + type(e).__name__
verdict
