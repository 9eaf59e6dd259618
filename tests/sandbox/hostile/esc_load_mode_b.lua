-- expect: runtime
-- message: binary chunk
return assert(load('\27Lua', 'x', 'b'))
