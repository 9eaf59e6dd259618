# expect: crashed
# message: MB into the workspace
# timeout-ms: 20000
for i in range(100):
    with open('fill_%d.bin' % i, 'wb') as f:
        f.write(b'x' * (3 << 20))
    import time
    time.sleep(0.005)
