t = {3, 1, 2, x = 'y'}
table.sort(t)
return t, table.concat(t, ',')
