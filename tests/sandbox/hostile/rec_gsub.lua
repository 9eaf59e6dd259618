-- expect: runtime
-- message: stack overflow
-- timeout-ms: 5000
local function f(s) return (s:gsub('.', f)) end
return f('aaaa')
