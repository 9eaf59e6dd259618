# expect: ok
# message: blocked
import sys, importlib
sys.path.insert(0, '/root/.pyenv/versions')
sys.path.insert(0, '/root/.local/lib/python3.11/site-packages')
try:
    importlib.import_module('agentrt_host_only_module')
    verdict = 'IMPORTED'
except ImportError as e:
    verdict = 'blocked ' + type(e).__name__
verdict
