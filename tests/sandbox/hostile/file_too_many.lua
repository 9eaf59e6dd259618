-- expect: runtime
-- message: too many files
-- timeout-ms: 5000
for i = 1, 1000 do fs.write('many/f' .. i .. '.txt', 'x') end
