# expect: runtime
# message: SystemExit
import sys
sys.exit(5)
