-- expect: ok
-- message: value cut
return string.rep('v', 3e7)
