# expect: ok
# message: blocked
import os
open('mine.txt', 'w').write('x')
try:
    os.rename('mine.txt', '/usr/mine.txt')
    verdict = 'MOVED'
except OSError as e:
    verdict = 'blocked ' + type(e).__name__
os.unlink('mine.txt')
verdict
