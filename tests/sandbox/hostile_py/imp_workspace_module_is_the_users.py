# expect: ok
# message: runs as uid 1000
# A pure-Python module the code writes is its own code: it runs, in the same jail.
open('mymod.py', 'w').write('import os\nVALUE = os.getuid()\n')
import importlib, sys
sys.path.insert(0, '.')
import mymod
'runs as uid %d' % mymod.VALUE
