-- expect: runtime
-- message: global 'io'
return io.popen('id'):read('a')
