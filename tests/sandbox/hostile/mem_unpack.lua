-- expect: runtime
-- message: too many results
return table.unpack({}, 1, 1e8)
