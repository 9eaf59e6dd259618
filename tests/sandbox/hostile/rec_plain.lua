-- expect: memory
-- message: memory limit exceeded
-- timeout-ms: 5000
local function f(n) return 1 + f(n + 1) end
return f(1)
