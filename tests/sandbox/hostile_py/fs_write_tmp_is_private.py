# expect: ok
# message: jail /tmp
# The jail's /tmp is its own: what lands there never reaches the host's /tmp.
with open('/tmp/agentrt-escape-{{TOKEN}}.txt', 'w') as f:
    f.write('written by the sandbox')
'written to the jail /tmp'
