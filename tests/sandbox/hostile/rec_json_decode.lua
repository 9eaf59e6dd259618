-- expect: runtime
-- message: nesting too deep
return json.decode(string.rep('[', 100000) .. string.rep(']', 100000))
