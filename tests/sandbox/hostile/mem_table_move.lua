-- expect: memory
-- timeout-ms: 5000
local t = setmetatable({}, {__index = function() return 1 end})
table.move(t, 1, 1e9, 2)
