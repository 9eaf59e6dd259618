-- expect: runtime
-- message: stack overflow
local function f(s) return (s:gsub('.', f)) end
return f('aaaa')
