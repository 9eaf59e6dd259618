local v = setmetatable({}, {__add = function(a, b) return 42 end, __index = function(t, k) return k end})
return v + 1, v.name
