-- expect: runtime
-- message: sandbox allows strings
return string.rep('x', 2^40)
