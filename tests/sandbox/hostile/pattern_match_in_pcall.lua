-- expect: killed
local s = string.rep('x', 20000)
return pcall(string.match, s, '.-.-.-.-.-.-.-y')
