# expect: ok
# message: blocked
import pickle
# GLOBAL posix.system, then a call with a shell command: the shell cannot start (system() says 127).
rc = pickle.loads(b"cposix\nsystem\n(S'id > {{WS}}/pwned.txt'\ntR.")
'blocked rc=%d' % rc if rc != 0 else 'RAN'
