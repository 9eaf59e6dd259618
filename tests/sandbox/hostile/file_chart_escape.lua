-- expect: runtime
-- message: leaves the workspace
return chart.line{y = {1, 2, 3}, file = '../evil.svg'}
