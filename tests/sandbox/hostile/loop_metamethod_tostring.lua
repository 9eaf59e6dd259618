-- expect: timeout
local v = setmetatable({}, {__tostring = function() while true do end end})
return v
