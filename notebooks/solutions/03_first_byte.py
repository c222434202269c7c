import time

import httpx


async def first_byte_and_total(url):
    async with httpx.AsyncClient() as client:
        start = time.perf_counter()
        first = None
        async with client.stream("GET", url) as response:
            async for _ in response.aiter_raw():
                if first is None:
                    first = time.perf_counter() - start
        return first, time.perf_counter() - start
