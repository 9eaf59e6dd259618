-- expect: runtime
-- message: nesting too deep
-- timeout-ms: 5000
local t = {}
local c = t
for i = 1, 1e5 do c[1] = {} c = c[1] end
return json.encode(t)
