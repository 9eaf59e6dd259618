-- expect: timeout
repeat local x = 1 until false
