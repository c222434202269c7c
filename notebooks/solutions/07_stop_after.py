import json

import websockets


async def stop_after(url, prompt, n):
    async with websockets.connect(url) as socket:
        await socket.send(json.dumps({"prompt": prompt}))
        count = 0
        async for raw in socket:
            message = json.loads(raw)
            if message["type"] == "token":
                count += 1
                if count == n:
                    await socket.send(json.dumps({"action": "stop"}))
            elif message["type"] == "done":
                return message
