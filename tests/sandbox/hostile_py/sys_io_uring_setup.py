# expect: ok
# message: blocked
# io_uring_setup
import ctypes, os
libc = ctypes.CDLL(None, use_errno=True)
libc.syscall.restype = ctypes.c_long
rc = libc.syscall(425, 8, ctypes.byref((ctypes.c_char * 120)()))
err = ctypes.get_errno()
'blocked ' + os.strerror(err) if rc == -1 else 'ALLOWED rc=%d' % rc
