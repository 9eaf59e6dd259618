# expect: ok
# message: blocked
import asyncio
try:
    asyncio.new_event_loop()
    verdict = 'ALLOWED'
except (OSError, RuntimeError, ValueError) as e:
    verdict = 'blocked ' + type(e).__name__
verdict
