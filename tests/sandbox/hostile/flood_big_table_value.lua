-- expect: ok
-- message: more)
-- timeout-ms: 5000
local t = {}
for i = 1, 1e5 do t[i] = i end
return t
