# expect: ok
# message: blocked
try:
    with open('/dev/shm/agentrt-escape', 'w') as f:
        f.write('written by the sandbox')
    verdict = 'WROTE'
except OSError as e:
    verdict = 'blocked ' + type(e).__name__
verdict
