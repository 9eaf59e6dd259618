-- expect: runtime
-- message: field 'exit'
os.exit(1)
