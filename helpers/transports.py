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

from .chunk_reader import ChunkReader
from .embedded_model import LazyModel, is_embedded, server_chat_model
from .static_pages import add_pages

__all__ = ["create_transport_app"]


def create_transport_app(llm_factory=server_chat_model) -> FastAPI:
    app = FastAPI(title="Streaming Lab: SSE and WebSocket")
    app.state.llm = LazyModel(llm_factory)  # made at the first request, on the server's loop
    app.state.stops: dict[str, asyncio.Event] = {}

    def tokens(prompt: str, lab: dict):
        extra = {"extra_body": {"lab": lab}} if is_embedded(app.state.llm) else {}
        return app.state.llm.astream(prompt, **extra)

    @app.get("/sse", response_class=EventSourceResponse)
    async def sse(prompt: str, token_delay: float | None = None):
        stream_id = secrets.token_hex(4)
        stop = app.state.stops[stream_id] = asyncio.Event()
        lab = {"token_delay": token_delay} if token_delay is not None else {}
        yield ServerSentEvent(event="start", data={"stream_id": stream_id})
        count, reader = 0, ChunkReader(tokens(prompt, lab))
        stopping = asyncio.ensure_future(stop.wait())
        try:
            while True:  # the next chunk raced against a stop request, as the WebSocket route does
                chunk, stopped = await reader.next_or(stopping)
                if stopped or chunk is None:
                    break
                if chunk.content:
                    count += 1
                    yield ServerSentEvent(event="token", data={"text": chunk.content}, id=str(count))
            yield ServerSentEvent(event="done", data={"tokens": count, "stopped": stop.is_set()})
        finally:
            stopping.cancel()
            with anyio.CancelScope(shield=True):  # a disconnect cancels us: still close the model stream
                await reader.aclose()
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
        reader = incoming = None
        try:
            request = await socket.receive_json()  # {"prompt": ..., "token_delay": ...}
            lab = {"token_delay": request["token_delay"]} if request.get("token_delay") is not None else {}
            reader = ChunkReader(tokens(request["prompt"], lab))
            incoming = asyncio.ensure_future(socket.receive_json())  # the client may talk mid-stream
            count, stopped = 0, False
            while True:
                chunk, heard = await reader.next_or(incoming)
                if heard:  # a message arrived first; the read it raced stays pending
                    if incoming.result().get("action") == "stop":  # raises WebSocketDisconnect if gone
                        stopped = True
                        break
                    incoming = asyncio.ensure_future(socket.receive_json())
                    continue
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
            if incoming is not None:
                incoming.cancel()
            if reader is not None:
                await reader.aclose()

    add_pages(app, {"/sse.html": "side.html", "/ws.html": "side.html"})
    return app
