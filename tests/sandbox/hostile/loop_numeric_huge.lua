-- expect: timeout
local s = 0
for i = 1, math.maxinteger do s = s + i end
return s
