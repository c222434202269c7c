import json

import httpx

from helpers.sse import Decoder


async def resume_text(url, prompt, drop_after):
    events = []
    async with httpx.AsyncClient(timeout=30) as client:
        decoder = Decoder()
        async with client.stream("GET", f"{url}/chat", params={"prompt": prompt}) as response:
            async for chunk in response.aiter_raw():
                events += decoder.feed(chunk)
                if sum(e.type == "token" for e in events) >= drop_after:
                    break
        decoder = Decoder()
        headers = {"Last-Event-ID": events[-1].id}
        async with client.stream("GET", f"{url}/chat", params={"prompt": prompt}, headers=headers) as response:
            async for chunk in response.aiter_raw():
                events += decoder.feed(chunk)
    return "".join(json.loads(e.data)["text"] for e in events if e.type == "token")
