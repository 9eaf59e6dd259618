-- expect: runtime
-- message: file too large
return fs.write('big.txt', string.rep('x', 17 * 1024 * 1024))
