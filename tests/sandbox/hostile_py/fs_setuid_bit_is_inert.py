# expect: ok
# message: contained
import os, stat
open('suid.bin', 'w').write('x')
os.chmod('suid.bin', 0o4755)
st = os.statvfs('.')
os.unlink('suid.bin')
'contained nosuid' if st.f_flag & os.ST_NOSUID else 'SUID ALLOWED'
