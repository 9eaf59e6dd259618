# expect: ok
# message: blocked
import ctypes, shutil
shutil.copy('/usr/lib/x86_64-linux-gnu/libz.so.1', 'libcopy.so')
try:
    ctypes.CDLL('./libcopy.so')
    verdict = 'LOADED'
except OSError as e:
    verdict = 'blocked ' + str(e)[:80]
verdict
