# expect: ok
# message: blocked
import socket
try:
    socket.create_connection(('127.0.0.1', 22), timeout=1)
    verdict = 'ALLOWED'
except (OSError, RuntimeError, ValueError) as e:
    verdict = 'blocked ' + type(e).__name__
verdict
