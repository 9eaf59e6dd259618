-- expect: runtime
-- message: read-only
local f, s = pairs(math)
s.pi = 3
