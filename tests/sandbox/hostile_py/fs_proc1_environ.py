# expect: ok
# message: contained
# PID 1 of the jail is the session itself, not dumpable: not even its own environment is readable, and it
# holds only the few variables the host gave the zygote.
import os
try:
    env = open('/proc/1/environ', 'rb').read()
    verdict = 'contained' if b'{{SECRET_VAR}}' not in env else 'LEAKED ' + repr(env[:200])
except PermissionError:
    verdict = 'contained: not readable'
verdict if '{{SECRET_VAR}}' not in os.environ else 'LEAKED through os.environ'
