-- expect: runtime
-- message: leaves the workspace
return fs.write('../escape.txt', 'x')
