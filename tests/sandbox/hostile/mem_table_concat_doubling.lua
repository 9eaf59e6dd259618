-- expect: memory
-- timeout-ms: 5000
local s = string.rep('q', 1e6)
local keep = {}
for i = 1, 1e6 do keep[i] = table.concat({s, s, tostring(i)}) end
