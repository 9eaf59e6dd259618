# expect: memory|crashed
# state: reset
# message: MemoryError|SIGSEGV
# timeout-ms: 20000
# A recursion limit raised past the C stack: the deep repr fails inside the session's caps, either as a
# MemoryError (the address-space cap reached first) or as the C stack's overflow (SIGSEGV: the session is
# replaced), depending on how much of the cap the session already holds. Either is contained.
import sys
sys.setrecursionlimit(10**8)
nested = []
for i in range(10**6):
    nested = [nested]
repr(nested)
