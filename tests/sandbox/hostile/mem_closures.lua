-- expect: memory
-- timeout-ms: 5000
local fs = {}
for i = 1, 1e9 do fs[i] = function() return i end end
