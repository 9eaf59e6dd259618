-- expect: ok
-- message: survived
local mt = {}
local t = setmetatable({}, mt)
rawset(mt, '__gc', function() error('finalizer ran') end)
t = nil
for i = 1, 1e5 do local _ = {} end
return 'survived'
