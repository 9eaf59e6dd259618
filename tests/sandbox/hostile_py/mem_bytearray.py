# expect: memory
# message: MemoryError
big = bytearray(8 << 30)
