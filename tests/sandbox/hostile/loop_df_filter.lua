-- expect: timeout
local d = df.new({a = {1, 2, 3}})
return d:filter(function(r) while true do end end)
