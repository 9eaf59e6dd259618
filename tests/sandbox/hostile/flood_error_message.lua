-- expect: runtime
-- message: error message cut
-- timeout-ms: 5000
error(string.rep('e', 1e6))
