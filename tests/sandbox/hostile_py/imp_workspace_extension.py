# expect: ok
# message: blocked
import shutil, importlib.machinery, importlib.util, glob
src = glob.glob('/usr/lib/python3.11/lib-dynload/_json*.so')[0]
shutil.copy(src, '_json_copy.cpython-311-x86_64-linux-gnu.so')
try:
    loader = importlib.machinery.ExtensionFileLoader('_json', '_json_copy.cpython-311-x86_64-linux-gnu.so')
    spec = importlib.util.spec_from_loader('_json', loader)
    importlib.util.module_from_spec(spec)
    verdict = 'LOADED'
except ImportError as e:
    verdict = 'blocked ' + str(e)[:60]
verdict
