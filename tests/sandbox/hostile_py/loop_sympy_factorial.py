# expect: timeout
# message: TimeoutError
# timeout-ms: 400
import sympy
sympy.factorint(2**512 + 1)
