import json

import httpx
from httpx_sse import aconnect_sse


async def collect_tokens(url, prompt):
    text = ""
    async with httpx.AsyncClient(timeout=60) as client:
        created = await client.post(f"{url}/streams", json={"prompt": prompt})
        created.raise_for_status()
        async with aconnect_sse(client, "GET", url + created.json()["url"]) as source:
            async for sse in source.aiter_sse():
                if sse.event == "token":
                    text += json.loads(sse.data)["text"]
                elif sse.event == "done":
                    break
    return text
