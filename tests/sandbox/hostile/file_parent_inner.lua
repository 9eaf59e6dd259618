-- expect: runtime
-- message: leaves the workspace
return fs.read('a/../../secret.txt')
