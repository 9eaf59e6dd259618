# expect: runtime
# message: Error
import marshal
marshal.loads(b'\xe3' + b'\xff' * 64)
