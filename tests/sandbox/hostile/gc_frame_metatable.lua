-- expect: ok
-- message: false
local d = df.new({a = {1}})
return getmetatable(d)
