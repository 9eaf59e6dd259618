d = df.new({k = {'a', 'b', 'a'}, v = {1, 2, 3}}, {'k', 'v'})
return d:group_by('k'):agg({v = {'sum', 'mean'}}), d:sort('v', 'desc'):head(2)
