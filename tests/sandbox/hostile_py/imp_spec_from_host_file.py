# expect: ok
# message: blocked
import importlib.util
try:
    spec = importlib.util.spec_from_file_location('cell_host', '{{HOST_SOURCE}}')
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    verdict = 'IMPORTED'
except (ImportError, OSError) as e:
    verdict = 'blocked ' + type(e).__name__
verdict
