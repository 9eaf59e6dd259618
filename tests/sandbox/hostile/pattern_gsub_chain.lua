-- expect: killed
local s = string.rep('a', 20000)
return (s:gsub('a*a*a*a*a*a*a*b', ''))
