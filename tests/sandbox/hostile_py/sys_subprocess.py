# expect: ok
# message: blocked
import subprocess
try:
    subprocess.run(['/usr/bin/id'], check=True)
    verdict = 'ALLOWED'
except (OSError, RuntimeError, ValueError) as e:
    verdict = 'blocked ' + type(e).__name__
verdict
