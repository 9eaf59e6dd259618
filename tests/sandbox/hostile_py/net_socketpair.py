# expect: ok
# message: blocked
import socket
try:
    socket.socketpair()
    verdict = 'ALLOWED'
except (OSError, RuntimeError, ValueError) as e:
    verdict = 'blocked ' + type(e).__name__
verdict
