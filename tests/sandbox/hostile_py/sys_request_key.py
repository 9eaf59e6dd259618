# expect: ok
# message: blocked
# request_key
import ctypes, os
libc = ctypes.CDLL(None, use_errno=True)
libc.syscall.restype = ctypes.c_long
rc = libc.syscall(249, b"user", b"k", 0, 0)
err = ctypes.get_errno()
'blocked ' + os.strerror(err) if rc == -1 else 'ALLOWED rc=%d' % rc
