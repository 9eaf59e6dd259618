# expect: runtime
# message: RecursionError
import pickle
x = []
for i in range(100000):
    x = [x]
pickle.dumps(x)
