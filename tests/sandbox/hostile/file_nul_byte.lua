-- expect: runtime
-- message: NUL
return fs.write('ok.txt\0/../../x', 'x')
