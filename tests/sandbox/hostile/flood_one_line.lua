-- expect: ok
-- output: truncated
print(string.rep('y', 1e7))
