-- expect: ok
local rep = string.rep
local env = {}
local f = load('return string', 'x', 't', env)
return f() == nil and rep('a', 2) == 'aa'
