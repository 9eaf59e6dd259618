-- expect: ok
-- message: value cut
-- timeout-ms: 5000
return string.rep('v', 1e7)
