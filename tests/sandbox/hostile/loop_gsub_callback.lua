-- expect: timeout
return (string.gsub('abc', '.', function(c) while true do end end))
