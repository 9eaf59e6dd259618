-- expect: memory
-- timeout-ms: 5000
local frames = {}
local col = {}
for i = 1, 1e5 do col[i] = i end
local d = df.new({a = col, b = col, c = col})
for i = 1, 1e6 do frames[i] = d:mutate('d', col) end
