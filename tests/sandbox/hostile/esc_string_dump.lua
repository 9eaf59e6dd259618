-- expect: runtime
-- message: field 'dump'
return string.dump(print)
