-- expect: runtime
-- message: stack overflow
-- timeout-ms: 5000
local t = setmetatable({}, {})
getmetatable(t).__index = function(t, k) return t[k] end
return t.x
