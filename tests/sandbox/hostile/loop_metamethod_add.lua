-- expect: timeout
local mt = {}
mt.__add = function(a, b) while true do end end
local v = setmetatable({}, mt)
return v + 1
