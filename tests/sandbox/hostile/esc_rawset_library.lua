-- expect: runtime
-- message: read-only
rawset(string, 'rep', print)
