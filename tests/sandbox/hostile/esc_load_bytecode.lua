-- expect: runtime
-- message: binary chunk
return assert(load('\27LuaT\0\25\147\13\10\26\10'))
