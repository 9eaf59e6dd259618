local f = load('return ...', 'chunk', 't', {})
return f(1, 2), load('\27Lua')
