d = csv.parse('a,b,c\n1,"x,y",3.5\n2,,true\n')
return d, d:describe()
