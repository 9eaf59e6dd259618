-- expect: runtime
-- message: absolute path
return fs.list('/')
