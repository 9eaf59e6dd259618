-- expect: ok
-- message: <cycle>
local t = {}
t.self = t
return t
