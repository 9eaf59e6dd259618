# expect: ok
# message: contained
import ctypes.util
# find_library runs ldconfig/gcc through subprocess: refused, it just finds nothing that way.
'contained %r' % (ctypes.util.find_library('definitely_not_here'),)
