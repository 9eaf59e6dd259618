-- expect: runtime
-- message: too many files
for i = 1, 1000 do fs.write('many/f' .. i .. '.txt', 'x') end
