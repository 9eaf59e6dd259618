-- expect: runtime
-- message: absolute path
return fs.read('/etc/passwd')
