# expect: ok
# message: blocked
# iopl
import ctypes, os
libc = ctypes.CDLL(None, use_errno=True)
libc.syscall.restype = ctypes.c_long
rc = libc.syscall(172, 3)
err = ctypes.get_errno()
'blocked ' + os.strerror(err) if rc == -1 else 'ALLOWED rc=%d' % rc
