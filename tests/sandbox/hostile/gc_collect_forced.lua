-- expect: runtime
-- message: only collectgarbage
collectgarbage()
