# expect: ok
# message: blocked
# ptrace(PTRACE_ATTACH, host)
import ctypes, os
libc = ctypes.CDLL(None, use_errno=True)
libc.syscall.restype = ctypes.c_long
rc = libc.syscall(101, 16, {{HOST_PID}}, 0, 0)
err = ctypes.get_errno()
'blocked ' + os.strerror(err) if rc == -1 else 'ALLOWED rc=%d' % rc
