-- expect: ok
-- output: truncated
-- timeout-ms: 5000
for i = 1, 100000 do print(i) end
