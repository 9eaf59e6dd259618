-- expect: runtime
-- message: error message cut
error(string.rep('e', 1e6))
