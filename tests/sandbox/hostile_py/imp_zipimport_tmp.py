# expect: ok
# message: zip import 42
import zipfile, sys
with zipfile.ZipFile('/tmp/pkg.zip', 'w') as z:
    z.writestr('zmod.py', 'X = 42\n')
sys.path.insert(0, '/tmp/pkg.zip')
import zmod
'zip import %d' % zmod.X
