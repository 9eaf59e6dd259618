# expect: ok
# message: blocked
# A link in the workspace to the host's file, written through without O_CREAT (a copy an earlier cell made in
# the jail's own /tmp does not count as the host's file).
import os
os.symlink('{{CANARY_DIR}}/canary.txt', 'link_write')
try:
    fd = os.open('link_write', os.O_WRONLY)
    os.write(fd, b'overwritten'); os.close(fd)
    verdict = 'WROTE through the link'
except OSError as e:
    verdict = 'blocked ' + type(e).__name__
os.unlink('link_write')
verdict
