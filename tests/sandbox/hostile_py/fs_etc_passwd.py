# expect: ok
# message: blocked
try:
    with open('/etc/passwd', 'rb') as f:
        data = f.read(200)
    verdict = 'LEAKED ' + repr(data)
except OSError as e:
    verdict = 'blocked ' + type(e).__name__
verdict
