-- expect: killed
local s = string.rep('a', 20000)
return s:find('.-.-.-.-.-.-.-.-b')
