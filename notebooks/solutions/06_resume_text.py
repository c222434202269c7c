import json

import httpx

from helpers.sse import Decoder


async def resume_text(url, prompt, drop_after):
    events = []
    async with httpx.AsyncClient(timeout=30) as client:
        created = await client.post(f"{url}/streams", json={"prompt": prompt})
        stream_url = url + created.json()["url"]
        decoder = Decoder()
        async with client.stream("GET", stream_url) as response:
            async for chunk in response.aiter_raw():
                events += decoder.feed(chunk)
                if sum(e.type == "token" for e in events) >= drop_after:
                    break  # leaving the block closes the connection: a drop
        decoder = Decoder()
        async with client.stream("GET", stream_url, headers={"Last-Event-ID": events[-1].id}) as response:
            async for chunk in response.aiter_raw():
                events += decoder.feed(chunk)
    return "".join(json.loads(e.data)["text"] for e in events if e.type == "token")
