# expect: ok
# message: contained
# The worker's own modules are importable (they are its code), but only reach this session.
import agentrt_cell
agentrt_cell.write_frame({'ok': True, 'value': 'forged'}, fd=1)
'contained'
