# expect: ok
# message: contained
import os
fds = sorted(int(f) for f in os.listdir('/proc/self/fd'))
# stdio, the session socket, what IPython holds open on /dev/null, and the listing itself
targets = {f: os.readlink('/proc/self/fd/%d' % f) for f in fds if os.path.exists('/proc/self/fd/%d' % f)}
odd = {f: t for f, t in targets.items() if f > 3 and t != '/dev/null'}
'contained' if not odd else 'HOLDS %r' % odd
