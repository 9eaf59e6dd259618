# expect: ok
# message: blocked
import os
os.symlink('/etc/shadow', 'link_shadow')
try:
    verdict = 'LEAKED ' + open('link_shadow').read(100)
except OSError as e:
    verdict = 'blocked ' + type(e).__name__
os.unlink('link_shadow')
verdict
