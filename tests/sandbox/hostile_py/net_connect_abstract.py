# expect: ok
# message: blocked
import socket
try:
    s = socket.socket(socket.AF_UNIX); s.connect('\0/tmp/.X11-unix/X0')
    verdict = 'ALLOWED'
except (OSError, RuntimeError, ValueError) as e:
    verdict = 'blocked ' + type(e).__name__
verdict
