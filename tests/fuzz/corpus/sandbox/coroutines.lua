local co = coroutine.wrap(function(a) local b = coroutine.yield(a + 1) return b * 2 end)
return co(1), co(5)
