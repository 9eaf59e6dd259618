-- expect: runtime
-- message: global 'loadfile'
return loadfile('/etc/passwd')
