# expect: ok
# message: blocked
import ctypes, os
libc = ctypes.CDLL(None, use_errno=True)
buf = ctypes.create_string_buffer(128 + 8)
ctypes.cast(buf, ctypes.POINTER(ctypes.c_uint))[0] = 128
mount_id = ctypes.c_int()
rc = libc.name_to_handle_at(-100, b'/usr', buf, ctypes.byref(mount_id), 0)
rc2 = libc.open_by_handle_at(-100, buf, 0)
'blocked %s' % os.strerror(ctypes.get_errno()) if rc2 == -1 else 'OPENED fd %d' % rc2
