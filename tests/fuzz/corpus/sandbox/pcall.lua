local ok, e = pcall(error, {code = 1})
return ok, type(e), select('#', pcall(error))
