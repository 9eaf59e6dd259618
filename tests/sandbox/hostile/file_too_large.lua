-- expect: runtime
-- message: file too large
-- timeout-ms: 5000
return fs.write('big.txt', string.rep('x', 5 * 1024 * 1024))
