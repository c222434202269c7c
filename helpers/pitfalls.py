"""The source material's streaming code, run as written, so the notebooks can show where it breaks.

`create_pitfall_app()` serves:
    POST /seed/chat-stream?message=...   the material's handler, exactly as written (POST)
    GET  /seed/chat-stream-get?message=...   the same generator over GET, so a browser can open it
    GET  /ends                           three events, then the response ends (no `done`)
    GET  /reconnect-loop.html            a page that does not close on the end: it re-runs the stream
    GET  /error-collision.html           the material's client: listens for 'error' and parses e.data
    GET  /runs                           how often each route started its generation
"""

import json
from collections import Counter

from fastapi import FastAPI
from fastapi.responses import StreamingResponse

from .embedded_model import server_chat_model
from .static_pages import add_pages

__all__ = ["create_pitfall_app", "seed_generate"]



def seed_generate(llm, message: str, runs: Counter):
    """The material's generator: `event: error` on failure and a `yield` inside `finally`."""

    async def generate():
        runs["seed"] += 1
        try:
            async for chunk in llm.astream(message):
                if chunk.content:
                    yield f"data: {json.dumps({'type': 'content', 'data': chunk.content})}\n\n"
        except Exception as e:
            error_data = {"type": "error", "message": str(e), "code": "GENERATION_ERROR"}
            yield f"event: error\ndata: {json.dumps(error_data)}\n\n"
        finally:
            yield f"event: done\ndata: {json.dumps({'type': 'done'})}\n\n"

    return generate()


class _LazyModel:
    """Creates the model on first use, inside the server's event loop."""

    def __init__(self, factory):
        self._factory, self._llm = factory, None

    def astream(self, *args, **kwargs):
        if self._llm is None:
            self._llm = self._factory()
        return self._llm.astream(*args, **kwargs)


def create_pitfall_app(llm_factory=server_chat_model) -> FastAPI:
    app = FastAPI(title="Streaming Lab pitfalls")
    app.state.runs = runs = Counter()
    llm = _LazyModel(llm_factory)

    @app.post("/seed/chat-stream")
    async def chat_stream(message: str):
        return StreamingResponse(seed_generate(llm, message, runs), media_type="text/event-stream")

    @app.get("/seed/chat-stream-get")
    async def chat_stream_get(message: str):
        return StreamingResponse(seed_generate(llm, message, runs), media_type="text/event-stream")

    @app.get("/ends")
    async def ends():
        runs["ends"] += 1

        async def events():
            yield "retry: 500\n\n"  # reconnect after 0.5 s instead of the browser's default of a few seconds
            for i in range(3):
                yield f"data: part {i}\n\n"

        return StreamingResponse(events(), media_type="text/event-stream")

    @app.get("/runs")
    def run_counts() -> dict:
        return dict(runs)

    add_pages(app, {"/reconnect-loop.html": "reconnect-loop.html", "/error-collision.html": "error-collision.html"})
    return app
