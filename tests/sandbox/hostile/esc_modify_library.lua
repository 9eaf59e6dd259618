-- expect: runtime
-- message: read-only
string.rep = function() return 'pwned' end
