-- expect: ok
-- output: truncated
for i = 1, 100000 do print(i) end
