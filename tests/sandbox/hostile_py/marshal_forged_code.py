# expect: crashed
# message: signal
import types
def f():
    return 1
code = f.__code__.replace(co_code=b'\x64\xff\xff\x00' * 8, co_consts=())
types.FunctionType(code, {})()
