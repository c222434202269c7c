import json
import time

import httpx
import websockets
from httpx_sse import aconnect_sse


async def stop_websocket(url, token_delay, n):
    async with websockets.connect(url.replace("http", "ws", 1) + "/ws") as socket:
        await socket.send(json.dumps({"prompt": "What is SSE?", "token_delay": token_delay}))
        received, sent_at, after = 0, None, 0
        async for raw in socket:
            message = json.loads(raw)
            if message["type"] == "token":
                received += 1
                if sent_at is not None:
                    after += 1  # already on its way when the stop left
                elif received == n:
                    sent_at = time.perf_counter()
                    await socket.send(json.dumps({"action": "stop"}))
            elif message["type"] == "done":
                return {"latency": time.perf_counter() - sent_at, "after_stop": after}


async def stop_sse(url, token_delay, n):
    async with httpx.AsyncClient() as client:
        params = {"prompt": "What is SSE?", "token_delay": token_delay}
        async with aconnect_sse(client, "GET", url + "/sse", params=params) as source:
            received, sent_at, after = 0, None, 0
            async for sse in source.aiter_sse():
                data = json.loads(sse.data)
                if sse.event == "start":
                    stream_id = data["stream_id"]
                elif sse.event == "token":
                    received += 1
                    if sent_at is not None:
                        after += 1
                    elif received == n:
                        sent_at = time.perf_counter()
                        # the stop is a second request; the stream keeps coming while it travels
                        await client.post(f"{url}/sse/{stream_id}/stop")
                elif sse.event == "done":
                    return {"latency": time.perf_counter() - sent_at, "after_stop": after}


async def measure_stops(url, token_delay, n):
    return {"websocket": await stop_websocket(url, token_delay, n), "sse": await stop_sse(url, token_delay, n)}
