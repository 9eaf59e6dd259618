-- expect: ok
return collectgarbage('count') > 0
