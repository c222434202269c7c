"""One token stream, two transports: SSE (`GET /sse`) and WebSocket (`/ws`), from one app.

Both read the same model stream. Over WebSocket the client may send `{"action": "stop"}`
mid-stream; over SSE the same request needs a separate HTTP call, `POST /sse/{id}/stop`.
Pages: `/sse.html` and `/ws.html` (one page, `side.html`, that picks its transport by name).
"""

import asyncio
import json
import secrets

import anyio
from fastapi import FastAPI, HTTPException, WebSocket, WebSocketDisconnect
from fastapi.sse import EventSourceResponse, ServerSentEvent

from .embedded_model import server_chat_model
from .static_pages import add_pages

__all__ = ["create_transport_app"]


def create_transport_app(llm_factory=server_chat_model) -> FastAPI:
    app = FastAPI(title="Streaming Lab: SSE and WebSocket")
    app.state.llm = None
    app.state.stops: dict[str, asyncio.Event] = {}

    def tokens(prompt: str, lab: dict):
        if app.state.llm is None:
            app.state.llm = llm_factory()
        extra = {"extra_body": {"lab": lab}} if app.state.llm.openai_api_base else {}
        return app.state.llm.astream(prompt, **extra)

    @app.get("/sse", response_class=EventSourceResponse)
    async def sse(prompt: str, token_delay: float | None = None):
        stream_id = secrets.token_hex(4)
        stop = app.state.stops[stream_id] = asyncio.Event()
        lab = {"token_delay": token_delay} if token_delay is not None else {}
        yield ServerSentEvent(event="start", data={"stream_id": stream_id})
        count, stream, chunk_task = 0, tokens(prompt, lab).__aiter__(), None
        stopping = asyncio.ensure_future(stop.wait())
        try:
            while True:  # race the next chunk against a stop request, as the WebSocket route does
                chunk_task = asyncio.ensure_future(anext(stream, None))
                await asyncio.wait({chunk_task, stopping}, return_when=asyncio.FIRST_COMPLETED)
                if stopping.done():
                    chunk_task.cancel()
                    await asyncio.gather(chunk_task, return_exceptions=True)
                    break
                chunk = chunk_task.result()
                if chunk is None:
                    break
                if chunk.content:
                    count += 1
                    yield ServerSentEvent(event="token", data={"text": chunk.content}, id=str(count))
            yield ServerSentEvent(event="done", data={"tokens": count, "stopped": stop.is_set()})
        finally:
            stopping.cancel()
            if chunk_task is not None:
                chunk_task.cancel()
            with anyio.CancelScope(shield=True):  # a disconnect cancels us: still close the model stream
                await asyncio.gather(*(t for t in (chunk_task,) if t is not None), return_exceptions=True)
                await stream.aclose()
            app.state.stops.pop(stream_id, None)

    @app.post("/sse/{stream_id}/stop", status_code=202)
    async def stop_sse(stream_id: str) -> dict:
        if stream_id not in app.state.stops:
            raise HTTPException(404, "no such stream")
        app.state.stops[stream_id].set()
        return {"stopping": stream_id}

    @app.websocket("/ws")
    async def ws(socket: WebSocket):
        await socket.accept()
        stream = incoming = chunk_task = None
        try:
            request = await socket.receive_json()  # {"prompt": ..., "token_delay": ...}
            lab = {"token_delay": request["token_delay"]} if request.get("token_delay") is not None else {}
            stream = tokens(request["prompt"], lab).__aiter__()
            incoming = asyncio.ensure_future(socket.receive_json())  # the client may talk mid-stream
            count, stopped = 0, False
            while True:
                chunk_task = asyncio.ensure_future(anext(stream, None))
                await asyncio.wait({chunk_task, incoming}, return_when=asyncio.FIRST_COMPLETED)
                if incoming.done():
                    if incoming.result().get("action") == "stop":  # raises WebSocketDisconnect if gone
                        stopped = True
                        break
                    incoming = asyncio.ensure_future(socket.receive_json())
                chunk = await chunk_task
                if chunk is None:
                    break
                if chunk.content:
                    count += 1
                    await socket.send_text(json.dumps({"type": "token", "text": chunk.content}))
            await socket.send_text(json.dumps({"type": "done", "tokens": count, "stopped": stopped}))
            await socket.close()
        except WebSocketDisconnect:
            pass  # the client left: the finally block stops the model
        finally:
            for task in (chunk_task, incoming):
                if task is not None and not task.done():
                    task.cancel()
            if stream is not None:
                await asyncio.gather(*(t for t in (chunk_task,) if t is not None), return_exceptions=True)
                await stream.aclose()

    add_pages(app, {"/sse.html": "side.html", "/ws.html": "side.html"})
    return app
