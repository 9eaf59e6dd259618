# expect: timeout
# message: TimeoutError
# timeout-ms: 400
import re
re.match(r'(a*)*b', 'a' * 64)
