# expect: runtime
# message: PermissionError
import pickle, subprocess
class P:
    def __reduce__(self):
        return (subprocess.check_output, (['/usr/bin/id'],))
pickle.loads(pickle.dumps(P()))
