-- expect: timeout
local n = 0
while true do
  local ok = pcall(error, 'x')
  n = n + 1
end
