# expect: ok
# message: blocked
import mmap
try:
    m = mmap.mmap(-1, 8 << 30)
    verdict = 'MAPPED'
except OSError as e:
    verdict = 'blocked ' + e.strerror
verdict
