# expect: runtime
# message: EOFError
input()
