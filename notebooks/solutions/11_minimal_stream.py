import asyncio

from fastapi import FastAPI
from fastapi.responses import StreamingResponse


def make_app():
    app = FastAPI()

    @app.get("/stream")
    async def stream():
        async def events():
            for word in "one two three four".split():
                await asyncio.sleep(0.1)
                yield f"data: {word}\n\n"
            yield "event: done\ndata: {}\n\n"

        return StreamingResponse(events(), media_type="text/event-stream")

    return app
