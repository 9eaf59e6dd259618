# expect: memory
# state: reset
# message: MemoryError
# timeout-ms: 30000
d = {}
i = 0
while True:
    d[i] = 'x' * 1000 + str(i)
    i += 1
