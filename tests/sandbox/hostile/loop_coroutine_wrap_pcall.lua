-- expect: timeout
local f = coroutine.wrap(function() while true do pcall(function() while true do end end) end end)
pcall(f)
return 'escaped'
