-- expect: ok
-- message: more)
local t = {}
for i = 1, 1e5 do t[i] = i end
return t
