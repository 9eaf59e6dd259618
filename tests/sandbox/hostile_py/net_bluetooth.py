# expect: ok
# message: blocked
import socket
try:
    socket.socket(31, socket.SOCK_STREAM, 0)
    verdict = 'ALLOWED'
except (OSError, RuntimeError, ValueError) as e:
    verdict = 'blocked ' + type(e).__name__
verdict
