# expect: ok
# message: blocked
# keyctl(KEYCTL_GET_KEYRING_ID)
import ctypes, os
libc = ctypes.CDLL(None, use_errno=True)
libc.syscall.restype = ctypes.c_long
rc = libc.syscall(250, 0, 0, 0, 0, 0)
err = ctypes.get_errno()
'blocked ' + os.strerror(err) if rc == -1 else 'ALLOWED rc=%d' % rc
