# expect: ok
# message: blocked
import urllib.request
try:
    urllib.request.urlopen('http://example.com', timeout=2)
    verdict = 'ALLOWED'
except (OSError, RuntimeError, ValueError) as e:
    verdict = 'blocked ' + type(e).__name__
verdict
