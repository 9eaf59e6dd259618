-- expect: runtime
-- message: sandbox allows strings
local s = ('ab'):rep(1e9, ',')
return #s
