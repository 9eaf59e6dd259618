-- expect: runtime
-- message: absolute path
return fs.read('/proc/self/environ')
