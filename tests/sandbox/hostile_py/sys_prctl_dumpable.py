# expect: ok
# message: blocked
# prctl(PR_SET_DUMPABLE, 1)
import ctypes, os
libc = ctypes.CDLL(None, use_errno=True)
libc.syscall.restype = ctypes.c_long
rc = libc.syscall(157, 4, 1, 0, 0, 0)
err = ctypes.get_errno()
'blocked ' + os.strerror(err) if rc == -1 else 'ALLOWED rc=%d' % rc
