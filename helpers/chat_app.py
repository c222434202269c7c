"""The relay: a chat model's tokens as typed SSE events, from FastAPI to a browser page.

    GET  /chat?prompt=...   EventSource stream (resumable with Last-Event-ID)
    POST /chat              the same stream for fetch() clients (JSON body)
    POST /chat/{id}/drop    break the stream's open connections, to practise resuming
    GET  /                  the EventSource page       GET /fetch   the fetch() page

Events, in order: `retrieval` (one per document found), `token` (one per chunk of text),
`stream_error` (only on failure; never `error`, which is EventSource's own connection
event), and always a final `done` carrying the whole text and whether it is complete.
"""


import asyncio
import time
from collections.abc import AsyncIterator
from typing import Annotated, Literal

import openai
from fastapi import Depends, FastAPI, Header, HTTPException, Query
from fastapi.sse import EventSourceResponse, ServerSentEvent
from pydantic import BaseModel, Field

from .embedded_model import FAULTS, server_chat_model
from .kernel_server import SimulatedDrop
from .replay import ResumeGap, Stream, StreamRegistry, parse_event_id
from .retrieval import retrieve
from .static_pages import add_pages

__all__ = ["ChatParams", "create_app", "RECONNECT_MS"]

RECONNECT_MS = 500  # sent as `retry:` so a dropped page reconnects quickly


class ChatParams(BaseModel):
    """What a client may ask for. Validation fails with 422 before any stream starts."""

    prompt: str = Field(min_length=1, max_length=2000)
    continue_from: str = Field("", max_length=20000, description="text the client kept; the answer goes on from it")
    timeout: float = Field(10.0, gt=0, le=120, description="seconds the model may stay silent")
    # lab controls, passed to the embedded model and ignored by the real API
    fault: Literal[FAULTS] | None = None  # type: ignore[valid-type]
    fault_at: int = Field(3, ge=0)
    tokens: int | None = Field(None, ge=1, le=20000)
    token_delay: float | None = Field(None, ge=0, le=2)
    model_config = {"extra": "forbid"}


DROP_MARKER = "drop-this-connection"


class _BreakOnDropMarker:
    """ASGI middleware: abort the connection where the drop marker would be sent.

    Raising inside the SSE generator would not do: fastapi.sse then ends the response
    cleanly. An exception from `send` leaves the response unfinished, like a real failure.
    """

    def __init__(self, app) -> None:
        self.app = app

    async def __call__(self, scope, receive, send) -> None:
        async def guarded_send(message) -> None:
            if message["type"] == "http.response.body" and DROP_MARKER.encode() in message.get("body", b""):
                raise SimulatedDrop("connection dropped on request")
            await send(message)

        await self.app(scope, receive, guarded_send)


def create_app(llm_factory=server_chat_model, *, resume_grace: float = 2.0, buffer_size: int = 2000) -> FastAPI:
    """A relay around the model `llm_factory()` returns; `app.state` exposes its streams and saved answers.

    The factory is called on the first request, inside the server's own event loop.
    """
    app = FastAPI(title="Streaming Lab relay")
    app.add_middleware(_BreakOnDropMarker)
    app.state.registry = registry = StreamRegistry(buffer_size=buffer_size, grace=resume_grace)
    app.state.saved_answers = {}  # stream id -> text kept when the stream was cancelled
    app.state.llm = None

    def model():
        if app.state.llm is None:
            app.state.llm = llm_factory()
        return app.state.llm

    def lab_options(params: ChatParams) -> dict:
        if model().openai_api_base is None:  # the real API: no lab controls
            return {}
        lab = {"fault": params.fault, "fault_at": params.fault_at, "tokens": params.tokens, "token_delay": params.token_delay}
        return {"extra_body": {"lab": {k: v for k, v in lab.items() if v is not None}}}

    async def save_partial(stream: Stream, text: str) -> None:
        await asyncio.sleep(0.01)  # stands for a database write
        app.state.saved_answers[stream.id] = text

    async def produce(stream: Stream, params: ChatParams) -> None:
        started, text, failure, count = time.monotonic(), params.continue_from, None, 0
        try:
            messages = [("human", params.prompt)]
            if params.continue_from:  # a continuation: its documents were shown the first time
                messages += [("ai", params.continue_from), ("human", "Continue exactly where you stopped.")]
            else:
                for doc in retrieve(params.prompt):
                    stream.emit("retrieval", {"id": doc.id, "title": doc.title, "text": doc.text})
            chunks = model().astream(messages, **lab_options(params)).__aiter__()
            try:
                while True:
                    try:
                        chunk = await asyncio.wait_for(anext(chunks), params.timeout)
                    except StopAsyncIteration:
                        break
                    if chunk.content:
                        text += chunk.content
                        count += 1
                        stream.emit("token", {"text": chunk.content})
            finally:
                await chunks.aclose()  # closes the HTTP response: the model sees the disconnect
        except TimeoutError:
            failure = {"code": "timeout", "message": f"The model sent nothing for {params.timeout:g} s."}
        except openai.RateLimitError as exc:
            retry_after = exc.response.headers.get("retry-after")
            failure = {"code": "rate_limited", "message": "The model is rate limited.", "retry_after": float(retry_after) if retry_after else None}
        except openai.APIConnectionError:
            failure = {"code": "upstream_disconnected", "message": "The connection to the model broke."}
        except openai.APIError as exc:
            failure = {"code": "model_error", "message": exc.message}
        except Exception as exc:  # a bug must still end the stream properly (CancelledError is not an Exception)
            failure = {"code": "internal_error", "message": f"{type(exc).__name__}: {exc}"}
        except asyncio.CancelledError:
            # every client left: keep what was generated; shielded so a second cancel cannot skip it
            await asyncio.shield(save_partial(stream, text))
            raise
        if failure is not None:
            stream.emit("stream_error", failure)
        stream.emit("done", {
            "complete": failure is None, "text": text, "tokens": count,
            "elapsed": round(time.monotonic() - started, 3), "stream_id": stream.id,
        })

    def open_stream(params: ChatParams, last_event_id: str | None) -> tuple[Stream, int]:
        """A new stream, or the one named by Last-Event-ID and where to resume it."""
        resume = parse_event_id(last_event_id) if last_event_id else None
        if resume is None:
            return registry.start(lambda stream: produce(stream, params)), 0
        stream = registry.get(resume[0])
        if stream is None:
            raise HTTPException(204)  # unknown or expired: 204 tells EventSource to stop reconnecting
        if stream.finished and resume[1] >= stream.next_seq - 1:
            raise HTTPException(204)  # already delivered in full: do not run the generation again
        return stream, resume[1]

    async def events(stream: Stream, after: int) -> AsyncIterator[ServerSentEvent]:
        registry.attach(stream)
        epoch = stream.epoch
        try:
            async for seq, event, data in stream.follow(after):
                if stream.epoch != epoch:
                    yield ServerSentEvent(comment=DROP_MARKER)  # _BreakOnDropMarker aborts the connection here
                    return
                yield ServerSentEvent(event=event, data=data, id=stream.event_id(seq), retry=RECONNECT_MS if seq == 1 else None)
        except ResumeGap as gap:
            yield ServerSentEvent(event="stream_error", data={"code": "resume_gap", "message": str(gap)})
        finally:
            registry.detach(stream)  # no yield here: after a disconnect nothing can be sent

    # Streams are opened in dependencies: they run before the response starts, so a
    # validation error is a 422 and a finished stream a 204, never a broken 200.
    async def open_get(params: Annotated[ChatParams, Query()], last_event_id: Annotated[str | None, Header()] = None):
        return open_stream(params, last_event_id)

    async def open_post(params: ChatParams, last_event_id: Annotated[str | None, Header()] = None):
        return open_stream(params, last_event_id)

    @app.get("/chat", response_class=EventSourceResponse)
    async def chat_get(opened: Annotated[tuple, Depends(open_get)]):
        async for event in events(*opened):
            yield event

    @app.post("/chat", response_class=EventSourceResponse)
    async def chat_post(opened: Annotated[tuple, Depends(open_post)]):
        async for event in events(*opened):
            yield event

    @app.post("/chat/{stream_id}/drop", status_code=202)
    async def drop(stream_id: str) -> dict:
        stream = registry.get(stream_id)
        if stream is None:
            raise HTTPException(404, f"no stream {stream_id!r}")
        stream.drop()
        return {"dropped": stream_id}

    add_pages(app, {"/": "eventsource.html", "/fetch": "fetch.html"})
    return app
