# expect: ok
# message: blocked
import http.client
try:
    c = http.client.HTTPConnection('127.0.0.1', 80, timeout=1); c.request('GET', '/')
    verdict = 'ALLOWED'
except (OSError, RuntimeError, ValueError) as e:
    verdict = 'blocked ' + type(e).__name__
verdict
