# expect: crashed
# message: signal 11
import ctypes
ctypes.memset(0, 0, 4096)
