# expect: ok
# message: blocked
import socket
try:
    s = socket.socket(); s.bind(('0.0.0.0', 8080)); s.listen()
    verdict = 'ALLOWED'
except (OSError, RuntimeError, ValueError) as e:
    verdict = 'blocked ' + type(e).__name__
verdict
