# expect: ok
# message: blocked
# socketpair
import ctypes, os
libc = ctypes.CDLL(None, use_errno=True)
libc.syscall.restype = ctypes.c_long
rc = libc.syscall(53, 1, 1, 0, ctypes.byref((ctypes.c_int * 2)()))
err = ctypes.get_errno()
'blocked ' + os.strerror(err) if rc == -1 else 'ALLOWED rc=%d' % rc
