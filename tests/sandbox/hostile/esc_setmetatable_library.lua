-- expect: runtime
-- message: protected metatable
setmetatable(string, {})
