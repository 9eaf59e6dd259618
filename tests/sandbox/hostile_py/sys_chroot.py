# expect: ok
# message: blocked
# chroot
import ctypes, os
libc = ctypes.CDLL(None, use_errno=True)
libc.syscall.restype = ctypes.c_long
rc = libc.syscall(161, b"/tmp")
err = ctypes.get_errno()
'blocked ' + os.strerror(err) if rc == -1 else 'ALLOWED rc=%d' % rc
