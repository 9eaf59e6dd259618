# expect: ok
# message: blocked
import os
os.symlink('{{OTHER_WS}}/canary.txt', 'link_other')
try:
    verdict = 'LEAKED ' + open('link_other').read(100)
except OSError as e:
    verdict = 'blocked ' + type(e).__name__
os.unlink('link_other')
verdict
