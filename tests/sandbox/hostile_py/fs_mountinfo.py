# expect: ok
# message: contained
text = open('/proc/self/mountinfo').read()
bad = [l for l in text.splitlines() if ' /root' in l or '{{CANARY_DIR}}' in l or '{{OTHER_WS}}' in l]
'contained' if not bad else 'SEES %r' % bad[:3]
