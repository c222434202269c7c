import asyncio


async def countdown(n, delay=0.05):
    for value in range(n, 0, -1):
        await asyncio.sleep(delay)
        yield value
