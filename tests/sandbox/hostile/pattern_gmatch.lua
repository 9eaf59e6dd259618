-- expect: killed
local s = string.rep('ab', 10000)
for w in s:gmatch('.-.-.-.-.-.-c') do end
