return chart.line{y = {1, 3, 2}, title = 't'}, chart.pie{labels = {'a', 'b'}, values = {1, 2}}
