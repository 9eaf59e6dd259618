# expect: memory
# message: MemoryError
s = 'x' * (8 << 30)
