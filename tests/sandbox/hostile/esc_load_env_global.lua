-- expect: ok
-- message: false
local f = load('return io ~= nil or os.execute ~= nil')
return f()
