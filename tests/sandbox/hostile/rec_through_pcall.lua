-- expect: runtime
-- timeout-ms: 5000
local function f() pcall(f) error('deep') end
f()
