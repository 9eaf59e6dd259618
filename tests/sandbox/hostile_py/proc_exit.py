# expect: crashed
# message: exited with status 3
import os
os._exit(3)
