# expect: ok
# message: blocked
# prlimit64 raising RLIMIT_AS
import ctypes, os
libc = ctypes.CDLL(None, use_errno=True)
libc.syscall.restype = ctypes.c_long
rc = libc.syscall(302, 0, 9, ctypes.byref((ctypes.c_ulong * 2)(2**62, 2**62)), 0)
err = ctypes.get_errno()
'blocked ' + os.strerror(err) if rc == -1 else 'ALLOWED rc=%d' % rc
