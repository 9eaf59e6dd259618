return utf8.char(72, 228, 8364), utf8.len('h\xC3\xA4'), #utf8.charpattern
