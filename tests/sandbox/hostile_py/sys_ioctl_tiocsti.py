# expect: ok
# message: blocked
# ioctl(TIOCSTI)
import ctypes, os
libc = ctypes.CDLL(None, use_errno=True)
libc.syscall.restype = ctypes.c_long
rc = libc.syscall(16, 0, 21522, ctypes.byref(ctypes.c_char(b"x")))
err = ctypes.get_errno()
'blocked ' + os.strerror(err) if rc == -1 else 'ALLOWED rc=%d' % rc
