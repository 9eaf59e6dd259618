-- expect: runtime
-- message: field 'execute'
return os.execute('id')
