# expect: memory
# state: reset
# message: MemoryError
# timeout-ms: 10000
keep = []
while True:
    keep.append(bytearray(8 << 20))
