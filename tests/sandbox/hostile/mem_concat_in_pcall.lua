-- expect: memory
-- timeout-ms: 5000
local keep = {}
while true do
  local ok = pcall(function() local s = 'y' for i = 1, 64 do s = s .. s end end)
  keep[#keep + 1] = string.rep('z', 1e6)
end
