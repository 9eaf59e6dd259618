--reset
return x == nil
