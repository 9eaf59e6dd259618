-- expect: runtime
local function f() pcall(f) error('deep') end
f()
