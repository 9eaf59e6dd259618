-- expect: runtime
-- message: only source text
return load(function() return nil end)
