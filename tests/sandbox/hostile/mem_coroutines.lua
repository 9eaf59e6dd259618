-- expect: memory
local cs = {}
for i = 1, 1e9 do cs[i] = coroutine.create(function() end) end
