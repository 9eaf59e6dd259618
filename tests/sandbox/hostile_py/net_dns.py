# expect: ok
# message: blocked
import socket
try:
    socket.getaddrinfo('example.com', 80)
    verdict = 'ALLOWED'
except (OSError, RuntimeError, ValueError) as e:
    verdict = 'blocked ' + type(e).__name__
verdict
