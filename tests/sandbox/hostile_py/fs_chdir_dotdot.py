# expect: ok
# message: contained
import os
os.chdir('/')
os.chdir('..')
os.chdir('../../..')
here = os.getcwd()
os.chdir('{{WS}}')
'contained' if here == '/' and 'home' not in os.listdir('/') else 'AT ' + here
