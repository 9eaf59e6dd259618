# expect: ok
# message: blocked
import os
rc = os.system('id > {{WS}}/id.txt')
'blocked rc=%d' % rc if rc != 0 else 'RAN'
