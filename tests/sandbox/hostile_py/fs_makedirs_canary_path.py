# expect: ok
# message: contained
# The host's folders do not exist here; making them makes private ones in the jail's /tmp (or fails).
import os
try:
    os.makedirs('{{CANARY_DIR}}', exist_ok=True)
    open('{{CANARY_DIR}}/escape.txt', 'w').write('x')
    verdict = 'contained: wrote the jail own copy'
except OSError as e:
    verdict = 'contained: ' + type(e).__name__
verdict
