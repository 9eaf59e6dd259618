-- expect: runtime
-- message: field 'getenv'
return os.getenv('HOME')
