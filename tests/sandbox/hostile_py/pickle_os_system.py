# expect: ok
# message: blocked
import pickle, os
class P:
    def __reduce__(self):
        return (os.system, ('id > {{WS}}/pwned.txt',))
rc = pickle.loads(pickle.dumps(P()))
'blocked rc=%d' % rc if rc != 0 else 'RAN'
