# expect: runtime
# message: FileNotFoundError
import pickle, builtins
class P:
    def __reduce__(self):
        return (builtins.open, ('/etc/shadow',))
pickle.loads(pickle.dumps(P()))
