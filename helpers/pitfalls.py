"""The source material's streaming code, run as written, so the notebooks and tests can show where it breaks.

`create_pitfall_app()` serves:
    /as-written/error-collision.html   the source's client script, as written, in a page
    /as-written/chat-stream            the source's route, as written: POST, `message` in the query,
                                       so the page's `new EventSource('/chat-stream')` gets a 405
    /over-get/error-collision.html     the same page ...
    /over-get/chat-stream              ... against the same generator over GET (the message defaults,
                                       because the source's client sends none): the stream works
    /error-collision.html              a redirect to the /over-get/ page
    POST /drop                         abort every open response, as a network failure would
    POST /seed/chat-stream?message=    the source's route under its older name (notebooks 04 and 06)
    GET  /seed/chat-stream-get?message= the same generator over GET
    GET  /ends                         three events, then the response ends (no `done`)
    GET  /bare-done                    three events, then `event: done` with no data line, then the end
    GET  /with-done                    three events, then `event: done` with `data:`, then the end
    GET  /reconnect-loop.html          a page that closes on `done` and counts its connections
    GET  /runs                         how often each route started its generation

The page's own functions (`updateUI`, `showError`, `showSuccess`) and a small record for the
tests sit in a script before the quoted one; `tests/test_source_material.py` checks that the
quoted script is the source's, character for character.
"""

import json
from collections import Counter

from fastapi import FastAPI
from fastapi.responses import RedirectResponse, StreamingResponse

from .embedded_model import LazyModel, server_chat_model
from .kernel_server import SimulatedDrop
from .static_pages import add_pages

__all__ = ["create_pitfall_app", "seed_generate", "DEFAULT_MESSAGE"]

DEFAULT_MESSAGE = "What is SSE?"


# A notebook prints this function's source: the formatter leaves it as the notebook shows it.
# fmt: off
def seed_generate(llm, message: str, runs: Counter | None = None):
    """The source's generator (问题3), as written: `llm` and `message` are what its closure reads.

    The lines between the two markers are the source's own, comments included; a test
    compares them with the source text. Counting the calls happens outside them.
    """
    if runs is not None:
        runs["seed"] += 1
    # --- quoted from the source material, as written ---
    async def generate():
        try:
            # 流式生成
            async for chunk in llm.astream(message):
                if chunk.content:
                    # 正常数据事件
                    yield f"data: {json.dumps({'type': 'content', 'data': chunk.content})}\n\n"

        except Exception as e:
            # ✅ 关键: 发送错误事件,而不是抛出异常
            error_data = {
                'type': 'error',
                'message': str(e),
                'code': 'GENERATION_ERROR'
            }
            yield f"event: error\ndata: {json.dumps(error_data)}\n\n"

        finally:
            # ✅ 发送结束事件
            yield f"event: done\ndata: {json.dumps({'type': 'done'})}\n\n"
    # --- end of the quote ---
    return generate()
# fmt: on


class _Droppable:
    """ASGI middleware: after `drop()`, every response open at that moment fails its next write.

    uvicorn then aborts the connection, which is what a browser sees when the network fails.
    The source's generator is not touched: the failure happens in the server, not in its code.
    """

    def __init__(self, app) -> None:
        self.app = app
        self.drops = 0

    @property
    def state(self):
        return self.app.state  # the wrapped app's state: `runs` and `drop`

    def drop(self) -> None:
        self.drops += 1

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http" or scope["path"] == "/drop":  # the drop request itself must answer
            return await self.app(scope, receive, send)
        opened_at = self.drops

        async def send_unless_dropped(message) -> None:
            if message["type"] == "http.response.body" and self.drops != opened_at:
                raise SimulatedDrop("simulated network drop")
            await send(message)

        await self.app(scope, receive, send_unless_dropped)


def _source_app(llm, runs: Counter, *, over_get: bool) -> FastAPI:
    """The source's route on `/chat-stream` and its client page, either as written (POST) or over GET."""
    app = FastAPI()
    if over_get:

        @app.get("/chat-stream")
        async def chat_stream_over_get(message: str = DEFAULT_MESSAGE):
            return StreamingResponse(seed_generate(llm, message, runs), media_type="text/event-stream")
    else:

        @app.post("/chat-stream")  # the source's route: `message: str` is a query parameter
        async def chat_stream(message: str):
            return StreamingResponse(seed_generate(llm, message, runs), media_type="text/event-stream")

    add_pages(app, {"/error-collision.html": "error-collision.html"})
    return app


def _three_events_then(ending: str, runs: Counter, name: str) -> StreamingResponse:
    runs[name] += 1

    async def events():
        yield "retry: 500\n\n"  # reconnect after 0.5 s instead of the browser's default of a few seconds
        for i in range(3):
            yield f"data: part {i}\n\n"
        yield ending

    return StreamingResponse(events(), media_type="text/event-stream")


def create_pitfall_app(llm_factory=server_chat_model):
    """The pitfall server, ready for `kernel_server.serve`; `.state.runs` counts the generations, `.state.drop()` drops."""
    app = FastAPI(title="Streaming Lab pitfalls")
    app.state.runs = runs = Counter()
    llm = LazyModel(llm_factory)  # made on the first request, inside the server's event loop
    droppable = _Droppable(app)
    app.state.drop = droppable.drop

    app.mount("/as-written", _source_app(llm, runs, over_get=False))
    app.mount("/over-get", _source_app(llm, runs, over_get=True))

    @app.get("/error-collision.html", include_in_schema=False)
    def error_collision() -> RedirectResponse:
        return RedirectResponse("over-get/error-collision.html")  # relative: works behind a proxy prefix

    @app.post("/drop", status_code=202)
    def drop() -> dict:
        droppable.drop()
        return {"dropped": True}

    @app.post("/seed/chat-stream")
    async def chat_stream(message: str):
        return StreamingResponse(seed_generate(llm, message, runs), media_type="text/event-stream")

    @app.get("/seed/chat-stream-get")
    async def chat_stream_get(message: str):
        return StreamingResponse(seed_generate(llm, message, runs), media_type="text/event-stream")

    @app.get("/ends")
    async def ends():
        return _three_events_then("", runs, "ends")

    @app.get("/bare-done")
    async def bare_done():
        return _three_events_then("event: done\n\n", runs, "bare-done")  # no data line: never dispatched

    @app.get("/with-done")
    async def with_done():
        return _three_events_then("event: done\ndata:\n\n", runs, "with-done")

    @app.get("/runs")
    def run_counts() -> dict:
        return dict(runs)

    add_pages(app, {"/reconnect-loop.html": "reconnect-loop.html"})
    return droppable
