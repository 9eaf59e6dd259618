-- expect: ok
-- output: truncated
-- timeout-ms: 5000
print(string.rep('y', 1e7))
