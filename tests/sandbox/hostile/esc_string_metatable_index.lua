-- expect: runtime
-- message: attempt to index
return getmetatable('').__index
