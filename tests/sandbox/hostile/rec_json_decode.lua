-- expect: runtime
-- message: nesting too deep
-- timeout-ms: 5000
return json.decode(string.rep('[', 100000) .. string.rep(']', 100000))
