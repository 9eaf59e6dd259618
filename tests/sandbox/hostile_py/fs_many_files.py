# expect: crashed
# message: files and folders
# timeout-ms: 60000
import os
os.mkdir('many')
for i in range(30000):
    open('many/%d' % i, 'w').close()
