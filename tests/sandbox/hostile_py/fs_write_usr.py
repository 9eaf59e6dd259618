# expect: ok
# message: blocked
try:
    with open('/usr/lib/python3/dist-packages/agentrt_escape.py', 'w') as f:
        f.write('written by the sandbox')
    verdict = 'WROTE'
except OSError as e:
    verdict = 'blocked ' + type(e).__name__
verdict
