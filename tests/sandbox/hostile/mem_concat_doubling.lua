-- expect: memory
-- timeout-ms: 5000
local s = 'x'
for i = 1, 64 do s = s .. s end
return #s
