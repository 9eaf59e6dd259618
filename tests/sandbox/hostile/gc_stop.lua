-- expect: runtime
-- message: only collectgarbage
collectgarbage('stop')
return 1
