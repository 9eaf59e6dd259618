-- expect: ok
-- message: false
return getmetatable('')
