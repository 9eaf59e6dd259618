# expect: ok
# message: blocked
import socket
try:
    socket.socket(40, socket.SOCK_STREAM)
    verdict = 'ALLOWED'
except (OSError, RuntimeError, ValueError) as e:
    verdict = 'blocked ' + type(e).__name__
verdict
