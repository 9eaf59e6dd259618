-- expect: ok
return _ENV.io, _G.io, _ENV.os.execute, _ENV.debug, _ENV.package
