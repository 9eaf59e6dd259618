fs.write('a/b.txt', 'data')
return fs.read('a/b.txt'), fs.list('a'), fs.exists('nope')
