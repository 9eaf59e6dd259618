# expect: ok
# message: blocked
import socket
try:
    socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, 0)
    verdict = 'ALLOWED'
except (OSError, RuntimeError, ValueError) as e:
    verdict = 'blocked ' + type(e).__name__
verdict
