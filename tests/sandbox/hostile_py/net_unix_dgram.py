# expect: ok
# message: blocked
import socket
try:
    socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    verdict = 'ALLOWED'
except (OSError, RuntimeError, ValueError) as e:
    verdict = 'blocked ' + type(e).__name__
verdict
