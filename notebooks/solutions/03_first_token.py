import time

import httpx
from httpx_sse import aconnect_sse


async def first_token_and_total(url):
    """Seconds until the first complete `token` event, and until the end of the stream."""
    first = None
    async with httpx.AsyncClient() as client:
        start = time.perf_counter()
        async with aconnect_sse(client, "GET", url) as source:
            async for sse in source.aiter_sse():  # one item per dispatched event, not per chunk
                if sse.event == "token" and first is None:
                    first = time.perf_counter() - start
        return first, time.perf_counter() - start
