# expect: ok
# message: contained
import os
names = set(os.listdir('/etc'))
bad = names & {'shadow', 'passwd', 'group', 'ssh', 'sudoers', 'hostname', 'resolv.conf', 'machine-id'}
'contained' if not bad else 'SEES %r' % sorted(bad)
