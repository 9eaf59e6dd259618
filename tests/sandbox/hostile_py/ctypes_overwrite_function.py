# expect: crashed
# message: signal 11
import ctypes
# Write into the interpreter's own code: the page is not writable.
addr = ctypes.cast(ctypes.pythonapi.Py_Initialize, ctypes.c_void_p).value
ctypes.memmove(addr, b'\xcc' * 16, 16)
