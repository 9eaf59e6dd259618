-- expect: runtime
-- message: leaves the workspace
return fs.read('../../../../etc/passwd')
