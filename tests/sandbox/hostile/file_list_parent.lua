-- expect: runtime
-- message: leaves the workspace
return fs.list('..')
