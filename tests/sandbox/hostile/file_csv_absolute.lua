-- expect: runtime
-- message: absolute path
return csv.read('/etc/passwd')
