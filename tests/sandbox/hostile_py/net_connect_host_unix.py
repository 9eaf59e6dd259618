# expect: ok
# message: blocked
import socket
try:
    s = socket.socket(socket.AF_UNIX); s.connect('/var/run/docker.sock')
    verdict = 'ALLOWED'
except (OSError, RuntimeError, ValueError) as e:
    verdict = 'blocked ' + type(e).__name__
verdict
