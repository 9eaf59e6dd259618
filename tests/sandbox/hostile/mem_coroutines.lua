-- expect: memory
-- timeout-ms: 5000
local cs = {}
for i = 1, 1e9 do cs[i] = coroutine.create(function() end) end
