-- expect: runtime
-- message: global 'require'
return require('os')
