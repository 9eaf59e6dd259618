local s = ('hello'):upper() .. string.format('%5.2f', math.pi)
return s:sub(2, 4), #s, s:find('L+')
