import asyncio

from helpers.sse import comment


async def with_pings(events, every):
    """Yield every item of `events`; while none comes for `every` seconds, yield comment("ping")."""
    source = aiter(events)
    pending = asyncio.ensure_future(anext(source))  # one task for the next item, never cancelled while waiting
    try:
        while True:
            done, _ = await asyncio.wait({pending}, timeout=every)  # unlike wait_for, a timeout leaves it running
            if not done:
                yield comment("ping")
                continue
            try:
                item = pending.result()
            except StopAsyncIteration:
                return
            yield item
            pending = asyncio.ensure_future(anext(source))
    finally:
        pending.cancel()  # the client left early: stop waiting for the source
