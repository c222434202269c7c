"""The relay: a chat model's answer as a stream *resource*. A POST creates it, a GET follows it.

    POST /streams              JSON {"prompt": "...", "continue_from": "..."} -> 201 {"id", "url"}, Location;
                               the generation starts, whether or not anyone follows it. With
                               "hold": true the 201 waits for the first token, so a failure before
                               it is a real status instead (429 with Retry-After, 502, 504)
    GET  /streams/{id}         text/event-stream: every event from the start (a page reload), or after
                               `Last-Event-ID` (header, or `?lastEventId=` for fetch clients), then live
    POST /streams/{id}/stop    cancel the generation; the stream ends with `done` {"reason": "stopped"}
    POST /streams/{id}/drop    break this server's open connections to the stream (to practise resuming)
    POST /chat                 the same events in the POST response itself, for the fetch() lesson:
                               no reconnection, no resume, and a disconnect stops the model
    GET  /   GET /fetch        the EventSource page and the fetch() page

Why a resource: the prompt travels in a JSON body, never in a URL (request heads are limited to
about 8-16 KiB and URLs land in access logs), and the events live in a stream store
(`helpers.stream_store`: memory, SQLite or Redis), so a reconnect may land on any worker or
replica that shares the store. A dropped connection does not stop the generation: the answer is
still wanted, and a reconnect is expected. Only `stop` (or the model's own end) ends it.

Before the first token nothing is committed, so a model request refused there (429, 5xx, a
failed connection) is asked again, honouring `Retry-After`, within a budget: `helpers.model_retry`.
Each wait is announced as a `step` event {"step": "retry"}; after the first token, never.

Events, each with `id: <stream>.<n>`: `step` (retrieval: one per document found; a retry), `token`,
`stream_error` (never `error`, which is EventSource's own connection event) with a `code`, a
user-safe `message` and a `request_id`, and always a final `done` carrying the whole text and
the `reason` it ended: complete, error, stopped or interrupted.

Input limits, checked before anything streams: the body is JSON (415 otherwise) of at most
MAX_BODY_BYTES (413); `prompt` is required and not blank (422) and at most MAX_PROMPT_CHARS
characters (413); `continue_from` at most MAX_CONTINUE_CHARS characters (413).

Start a replica from a shell (it uses the embedded model in its own process without a key):

    STREAM_STORE=sqlite:///tmp/s.db uvicorn --factory helpers.chat_app:create_app --port 8001
"""

import asyncio
import itertools
import logging
import math
import os
import re
import secrets
import sys
import time
import weakref
from collections import deque
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager, suppress
from dataclasses import dataclass
from typing import Annotated, Literal

import openai
from fastapi import Depends, FastAPI, Header, HTTPException, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.sse import EventSourceResponse, ServerSentEvent
from pydantic import BaseModel, Field, ValidationError, field_validator

from .chunk_reader import ChunkReader
from .embedded_model import FAULTS, is_embedded, server_chat_model
from .kernel_server import _HIDE_DROPS, SimulatedDrop
from .model_retry import RetryPolicy, retry_after
from .retrieval import retrieve
from .static_pages import add_pages
from .stream_store import FINAL_EVENT, Gap, MemoryStore, StreamStore, UnknownStream, open_store

__all__ = [
    "StreamRequest",
    "create_app",
    "event_id",
    "parse_event_id",
    "ServerLog",
    "RetryPolicy",
    "HELD_STATUS",
    "RECONNECT_MS",
    "MAX_BODY_BYTES",
    "MAX_PROMPT_CHARS",
    "MAX_CONTINUE_CHARS",
]

RECONNECT_MS = 500  # sent as `retry:` so a dropped page reconnects quickly
MAX_BODY_BYTES = 256 * 1024
MAX_PROMPT_CHARS = 8_000
MAX_CONTINUE_CHARS = 32_000
# 128 random bits: the id alone grants access, so it must be unguessable
STREAM_ID = re.compile(r"[0-9a-f]{32}")
DROP_MARKER = "drop-this-connection"

# What a user may read about each failure. The exception's type and text go to the server log only.
USER_MESSAGES = {
    "timeout": "The model stopped sending. Try again.",
    "rate_limited": "The model is busy. Try again shortly.",
    "upstream_disconnected": "The connection to the model broke.",
    "model_error": "The model failed while answering.",
    "internal_error": "Something went wrong on our side.",
    "interrupted": "The server restarted while answering.",
    "gap": "Part of this answer is no longer kept, so this connection skipped it; the final event still carries the whole text.",
    "expired": "This stream has expired.",
}

# What a `retry` step tells the page while the relay waits to ask the model again.
RETRY_REASONS = {
    "rate_limited": "The model is busy",
    "model_error": "The model failed before answering",
    "upstream_disconnected": "The model could not be reached",
}

# With "hold": the status a failure before the first token gets, instead of 201 (or 200) and an event.
HELD_STATUS = {
    "rate_limited": 429,
    "timeout": 504,
    "upstream_disconnected": 502,
    "model_error": 502,
    "internal_error": 500,
}


class StreamRequest(BaseModel):
    """What a client may ask for; validated before any stream starts."""

    prompt: str = Field(description=f"the question, 1 to {MAX_PROMPT_CHARS} characters")
    continue_from: str = Field("", description="text the client kept; the answer goes on from it")
    timeout: float = Field(10.0, gt=0, le=120, description="seconds the model may stay silent")
    hold: bool = Field(
        False, description="answer only once the first token exists: a failure before it gets a real status"
    )
    # lab controls, passed to the embedded model and ignored by the real API
    fault: Literal[FAULTS] | None = None  # type: ignore[valid-type]
    fault_at: int = Field(3, ge=0)
    tokens: int | None = Field(None, ge=1, le=20000)
    token_delay: float | None = Field(None, ge=0, le=2)
    model_config = {"extra": "forbid"}

    @field_validator("prompt")
    @classmethod
    def _not_blank(cls, prompt: str) -> str:
        if not prompt.strip():
            raise ValueError("the prompt is empty")
        return prompt


def event_id(stream_id: str, seq: int) -> str:
    return f"{stream_id}.{seq}"


def parse_event_id(last_event_id: str) -> tuple[str, int] | None:
    """`"<stream>.<n>"` -> (stream, n); anything else -> None."""
    stream_id, dot, seq = last_event_id.rpartition(".")
    return (stream_id, int(seq)) if dot and stream_id and seq.isdigit() else None


# ---------------------------------------------------------------- the server log


class ServerLog:
    """The relay's log lines, kept in memory: a notebook shows them beside what the client got.

    In a Jupyter kernel, anything written to stderr (even from a server thread) lands in whichever
    cell happens to run, so there the log goes to this record only; elsewhere (a replica, a test)
    it also goes to stderr.
    """

    def __init__(self, size: int = 500) -> None:
        self.lines: deque[str] = deque(maxlen=size)

    def __iter__(self):
        return iter(list(self.lines))

    def __len__(self) -> int:
        return len(self.lines)

    def __getitem__(self, index):
        return list(self.lines)[index]


class _ToServerLogs(logging.Handler):
    """Sends each record to the ServerLog of the app that wrote it."""

    def __init__(self) -> None:
        super().__init__()
        self.logs: weakref.WeakValueDictionary[int, ServerLog] = weakref.WeakValueDictionary()

    def emit(self, record: logging.LogRecord) -> None:
        target = self.logs.get(getattr(record, "relay", -1))
        if target is not None:
            target.lines.append(f"{record.levelname} {record.getMessage()}")


log = logging.getLogger("streaming_lab.relay")
_server_logs = _ToServerLogs()
log.addHandler(_server_logs)
log.setLevel(logging.INFO)
if "ipykernel" not in sys.modules:
    _stderr = logging.StreamHandler(sys.stderr)
    _stderr.setFormatter(logging.Formatter("%(asctime)s relay %(levelname)s %(message)s"))
    log.addHandler(_stderr)
log.propagate = False
_app_numbers = itertools.count(1)


# ---------------------------------------------------------------- middleware


class _RelayMiddleware:
    """ASGI middleware: a request id and the replica's name on every response, and the practice drop.

    The drop: a connection to break yields a comment holding DROP_MARKER, and the `send` that
    would write it raises instead. Raising inside the SSE generator would not do: fastapi.sse then
    ends the response cleanly. An exception from `send` leaves it unfinished, like a real failure.
    """

    def __init__(self, app, replica: str) -> None:
        self.app, self.replica = app, replica.encode()

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        request_id = "req_" + secrets.token_hex(8)
        scope.setdefault("state", {})["request_id"] = request_id

        async def guarded_send(message) -> None:
            if message["type"] == "http.response.start":
                message = {
                    **message,
                    "headers": [
                        *message.get("headers", []),
                        (b"x-request-id", request_id.encode()),
                        (b"x-relay-replica", self.replica),
                    ],
                }
            elif message["type"] == "http.response.body" and DROP_MARKER.encode() in message.get("body", b""):
                raise SimulatedDrop("connection dropped on request")
            await send(message)

        await self.app(scope, receive, guarded_send)


# ---------------------------------------------------------------- request parsing


async def read_stream_request(request: Request) -> StreamRequest:
    """The JSON body, checked in the order that costs least: type, size, syntax, fields, lengths."""
    media_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if media_type != "application/json":
        raise HTTPException(415, "Send the request as JSON (Content-Type: application/json).")
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > MAX_BODY_BYTES:
        raise HTTPException(413, f"The request body is larger than {MAX_BODY_BYTES} bytes.")
    body = bytearray()
    async for chunk in request.stream():  # counted while it arrives: Content-Length may be absent or wrong
        body += chunk
        if len(body) > MAX_BODY_BYTES:
            raise HTTPException(413, f"The request body is larger than {MAX_BODY_BYTES} bytes.")
    try:
        params = StreamRequest.model_validate_json(bytes(body))
    except ValidationError as invalid:
        raise RequestValidationError(
            [
                {**e, "loc": ("body", *e["loc"])}
                for e in invalid.errors(include_input=False, include_url=False, include_context=False)
            ]
        ) from None
    if len(params.prompt) > MAX_PROMPT_CHARS:
        raise HTTPException(413, f"The prompt is longer than {MAX_PROMPT_CHARS} characters.")
    if len(params.continue_from) > MAX_CONTINUE_CHARS:
        raise HTTPException(413, f"continue_from is longer than {MAX_CONTINUE_CHARS} characters.")
    return params


_BODY_DOC = {
    "requestBody": {
        "required": True,
        "content": {"application/json": {"schema": StreamRequest.model_json_schema()}},
    },
}


# ---------------------------------------------------------------- the relay


class Relay:
    """The state behind one app: its store, its model, and the generations and connections it runs."""

    def __init__(
        self, llm_factory, store: StreamStore, replica: str, retry: RetryPolicy | None = None
    ) -> None:
        self.llm_factory, self.store, self.replica = llm_factory, store, replica
        self.retry = retry or RetryPolicy()
        self.llm = None
        self.number = next(_app_numbers)
        self.server_log = ServerLog()
        _server_logs.logs[self.number] = self.server_log
        self.producers: dict[str, asyncio.Task] = {}  # stream id -> generation running in this process
        self.stops: dict[str, asyncio.Event] = {}  # a stop request that reaches this process directly
        self.connections: dict[
            str, set[asyncio.Event]
        ] = {}  # stream id -> one "drop" event per open connection
        self.direct = MemoryStore(retain=25_000)  # POST /chat's streams, whole: nobody else follows them

    def log(self, level: int, message: str, *args, exc_info=None) -> None:
        log.log(level, message, *args, extra={"relay": self.number}, exc_info=exc_info)

    def model(self):
        if self.llm is None:  # made on first use, inside the server's own event loop
            # In a replica without a key, this starts the embedded model's own uvicorn in this process,
            # and uvicorn sets its loggers' level again: keep this server's access log as it was.
            access = logging.getLogger("uvicorn.access")
            level = access.level
            self.llm = self.llm_factory()
            access.setLevel(level)
        return self.llm

    def active(self) -> list[str]:
        """Streams whose generation still runs in this process."""
        return [sid for sid, task in self.producers.items() if not task.done()]

    async def start(self, store: StreamStore, params: StreamRequest, request_id: str) -> str:
        stream_id = secrets.token_hex(16)
        await store.create(stream_id)
        stop = self.stops[stream_id] = asyncio.Event()
        task = asyncio.create_task(
            self.generate(store, stream_id, params, request_id, stop), name=f"stream-{stream_id[:8]}"
        )
        self.producers[stream_id] = task

        def forget(_):
            self.producers.pop(stream_id, None)
            self.stops.pop(stream_id, None)

        task.add_done_callback(forget)
        self.log(logging.INFO, "%s created stream %s (%s)", request_id, stream_id, store.url)
        return stream_id

    def lab_options(self, params: StreamRequest) -> dict:
        if not is_embedded(self.model()):  # the real API: no lab controls
            return {}
        lab = {
            "fault": params.fault,
            "fault_at": params.fault_at,
            "tokens": params.tokens,
            "token_delay": params.token_delay,
        }
        lab = {k: v for k, v in lab.items() if v is not None}
        if params.continue_from:
            lab["continue"] = True  # the assistant message is the start of this answer, not earlier history
        return {"extra_body": {"lab": lab}}

    async def generate(
        self, store: StreamStore, stream_id: str, params: StreamRequest, request_id: str, stop: asyncio.Event
    ) -> None:
        """The producer: model chunks into the store, whoever follows. Ends with `done`, always."""
        started, progress = time.monotonic(), _Progress(params.continue_from)
        code, reason, retry_after_seconds = None, "complete", None
        stopping = asyncio.ensure_future(_first_of(stop.wait, lambda: store.wait_stop(stream_id)))
        try:
            try:
                messages = [("human", params.prompt)]
                if params.continue_from:  # a continuation: its documents were shown the first time
                    messages += [
                        ("ai", params.continue_from),
                        ("human", "Continue exactly where you stopped."),
                    ]
                else:
                    for doc in retrieve(params.prompt):
                        await store.append(
                            stream_id,
                            "step",
                            {"step": "retrieval", "id": doc.id, "title": doc.title, "text": doc.text},
                        )
                reason = await self.answer(store, stream_id, messages, params, request_id, stopping, progress)
            finally:
                stopping.cancel()
                await asyncio.gather(stopping, return_exceptions=True)
        # the server is shutting down: end the stream so followers stop waiting
        except asyncio.CancelledError:
            with suppress(Exception):
                await self.finish(
                    store, stream_id, "interrupted", "interrupted", None, request_id, progress, started
                )
            raise
        except Exception as exc:  # CancelledError is not an Exception: it is handled above and let through
            code = self.failed(
                request_id, stream_id, _error_code(exc), exc, trace=_error_code(exc) == "internal_error"
            )
            if isinstance(exc, openai.RateLimitError):
                retry_after_seconds = retry_after(exc)
        await self.finish(
            store,
            stream_id,
            code,
            "error" if code else reason,
            retry_after_seconds,
            request_id,
            progress,
            started,
        )

    async def answer(self, store, stream_id, messages, params, request_id, stopping, progress) -> str:
        """Ask the model, and again while no token is out and the retry policy allows; "complete" or "stopped"."""
        waited = 0.0
        for attempt in itertools.count(1):
            try:
                return await self.relay_chunks(store, stream_id, messages, params, stopping, progress)
            except Exception as exc:
                if progress.tokens:  # the answer has begun: a retry would start it again after its start
                    raise
                wait = self.retry.delay(exc, attempt, waited)
                if wait is None:
                    raise
                code = _error_code(exc)
            self.log(
                logging.WARNING,
                "%s stream %s: model request %d ended before the first token (%s): asking again in %.2f s",
                request_id,
                stream_id,
                attempt,
                code,
                wait,
            )
            await store.append(
                stream_id,
                "step",
                {
                    "step": "retry",
                    "attempt": attempt + 1,
                    "code": code,
                    "wait": round(wait, 3),
                    "title": f"{RETRY_REASONS.get(code, USER_MESSAGES[code])}: asking again in {wait:.1f} s.",
                },
            )
            waited += wait
            if await _set_within(stopping, wait):
                return "stopped"
        raise AssertionError("unreachable")

    async def relay_chunks(self, store, stream_id, messages, params, stopping, progress) -> str:
        """One model request: its chunks into the store, until the end ("complete") or a stop ("stopped")."""
        # the next chunk, with a deadline of silence, raced against a stop request
        reader = ChunkReader(
            self.model().astream(messages, **self.lab_options(params)), timeout=params.timeout
        )
        try:
            while True:
                chunk, stopped = await reader.next_or(stopping)
                if stopped:
                    stopping.result()  # raises if watching for a stop failed
                    return "stopped"
                if chunk is None:
                    return "complete"
                if chunk.content:
                    progress.text += chunk.content
                    progress.tokens += 1
                    await store.append(stream_id, "token", {"text": chunk.content})
        finally:
            await reader.aclose()  # closes the HTTP response: the model sees the disconnect and stops

    def failed(
        self, request_id: str, stream_id: str, code: str, exc: BaseException, trace: bool = False
    ) -> str:
        self.log(
            logging.ERROR,
            "%s stream %s failed (%s): %s: %s",
            request_id,
            stream_id,
            code,
            type(exc).__name__,
            exc,
            exc_info=exc if trace else None,
        )
        return code

    async def finish(
        self, store, stream_id, code, reason, retry_after_seconds, request_id, progress, started
    ) -> None:
        try:
            if code is not None:
                error = {"code": code, "message": USER_MESSAGES[code], "request_id": request_id}
                if code == "rate_limited":
                    error["retry_after"] = retry_after_seconds
                await store.append(stream_id, "stream_error", error)
            await store.append(
                stream_id,
                FINAL_EVENT,
                {
                    "reason": reason,
                    "complete": reason == "complete",
                    "text": progress.text,
                    "tokens": progress.tokens,
                    "elapsed": round(time.monotonic() - started, 3),
                    "stream_id": stream_id,
                },
            )
        except UnknownStream:
            self.log(logging.WARNING, "%s stream %s expired before it ended", request_id, stream_id)

    async def follow(self, stream_id: str, after: int, request_id: str) -> AsyncIterator[ServerSentEvent]:
        """One connection: the store's events as SSE, until `done`, a drop, or the client leaves."""
        dropped = asyncio.Event()
        self.connections.setdefault(stream_id, set()).add(dropped)
        items = self.store.follow(stream_id, after).__aiter__()
        first = True
        try:
            while True:
                item = await _next_unless(items, dropped)
                if item is _DROPPED:
                    yield ServerSentEvent(comment=DROP_MARKER)  # _RelayMiddleware aborts the connection here
                    return
                if item is _END:
                    return
                retry = RECONNECT_MS if first else None
                first = False
                if isinstance(item, Gap):
                    self.log(
                        logging.WARNING,
                        "%s stream %s: events %d..%d left retention before this follower read them",
                        request_id,
                        stream_id,
                        item.first,
                        item.last,
                    )
                    error = {"code": "gap", "message": USER_MESSAGES["gap"], "request_id": request_id}
                    # its id moves the cursor past the gap, so a reconnect does not report it again
                    yield ServerSentEvent(
                        event="stream_error", data=error, id=event_id(stream_id, item.last), retry=retry
                    )
                else:
                    after = item.seq
                    yield ServerSentEvent(
                        event=item.event, data=item.data, id=event_id(stream_id, item.seq), retry=retry
                    )
        except UnknownStream:
            error = {"code": "expired", "message": USER_MESSAGES["expired"], "request_id": request_id}
            yield ServerSentEvent(event="stream_error", data=error, id=event_id(stream_id, after))
        finally:
            open_here = self.connections.get(stream_id, set())
            open_here.discard(dropped)
            if not open_here:
                self.connections.pop(stream_id, None)
            with suppress(Exception):
                await items.aclose()

    def drop(self, stream_id: str) -> int:
        connections = self.connections.get(stream_id, set())
        for dropped in connections:
            dropped.set()
        return len(connections)

    async def shutdown(self) -> None:
        """A replica stopping: end the streams it generates (`interrupted`), so their followers stop waiting."""
        for task in list(self.producers.values()):
            task.cancel()
        await asyncio.gather(*self.producers.values(), return_exceptions=True)
        await self.store.aclose()


_END, _DROPPED = object(), object()


@dataclass
class _Progress:
    """What one answer has produced so far: kept across the model requests of its retries."""

    text: str  # the whole text: what the client continued from, then every token
    tokens: int = 0  # tokens this generation stored


def _error_code(exc: BaseException) -> str:
    """The code a follower gets for a failure; the exception itself goes to the server log only."""
    if isinstance(exc, TimeoutError):
        return "timeout"
    if isinstance(exc, openai.RateLimitError):
        return "rate_limited"
    if isinstance(exc, openai.APIConnectionError):
        return "upstream_disconnected"
    if isinstance(exc, openai.APIError):
        return "model_error"
    return "internal_error"  # a bug must still end the stream properly


async def _set_within(stopping: asyncio.Future, seconds: float) -> bool:
    """Wait `seconds`, or less if `stopping` finishes first; True if it did (a stop was asked for)."""
    done, _ = await asyncio.wait({stopping}, timeout=seconds)
    if done:
        stopping.result()  # raises if watching for a stop failed
    return bool(done)


async def hold_until_first_token(store: StreamStore, stream_id: str) -> None:
    """Return once the stream has a token or has ended; if it failed before any token, raise its status.

    Until the first byte of a response, its status code is still free: a 429 with `Retry-After`
    tells any HTTP client (the SDK, fetch, a proxy) what happened, where a 201 or 200 followed by
    a `stream_error` event needs a client that reads the events. The price: the answer's head, and
    the retrieval steps, wait for the model's first token.
    """
    error = None
    async for item in store.follow(stream_id):
        if isinstance(item, Gap) or item.event == "step":
            continue
        if item.event == "token":
            return
        if item.event == "stream_error":
            error = item.data
        elif item.event == FINAL_EVENT:
            if error is None or item.data["tokens"]:
                return
            headers = (
                {"Retry-After": str(math.ceil(error["retry_after"]))} if error.get("retry_after") else None
            )
            raise HTTPException(HELD_STATUS.get(error["code"], 502), detail=error, headers=headers)


async def _first_of(*starts) -> None:
    """Wait until the first of `starts()` finishes. Each coroutine is made here, not by the caller:
    if this task is cancelled before it runs, no coroutine exists that was never awaited."""
    tasks = [asyncio.ensure_future(start()) for start in starts]
    try:
        finished, _ = await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
        next(iter(finished)).result()  # a failure (the store unreachable) is not a stop: raise it
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)


async def _next_unless(items: AsyncIterator, dropped: asyncio.Event):
    """The iterator's next item, or _DROPPED if `dropped` is set first, or _END."""
    following = asyncio.ensure_future(anext(items, _END))
    watching = asyncio.ensure_future(dropped.wait())
    try:
        await asyncio.wait({following, watching}, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for task in (following, watching):
            if not task.done():
                task.cancel()
        await asyncio.gather(following, watching, return_exceptions=True)
    if dropped.is_set():
        return _DROPPED
    return following.result()


def create_app(
    llm_factory=server_chat_model,
    *,
    store: str | StreamStore | None = None,
    replica: str | None = None,
    retry: RetryPolicy | None = None,
) -> FastAPI:
    """The relay around the model `llm_factory()` returns, keeping streams in `store`.

    `store` is a StreamStore or its URL; by default the STREAM_STORE environment variable, else
    `memory`. `retry` says when a model request refused before the first token is asked again
    (default `RetryPolicy()`; `helpers.model_retry.NO_RETRY` never). `app.state.relay` exposes the
    state (its `server_log`, the streams it generates).
    With no arguments (`uvicorn --factory`), everything comes from the environment.
    """
    stream_store = open_store(store if store is not None else os.environ.get("STREAM_STORE"))
    replica = replica or os.environ.get("RELAY_REPLICA") or f"pid-{os.getpid()}"
    relay = Relay(llm_factory, stream_store, replica, retry)

    @asynccontextmanager
    async def lifespan(app):  # runs in replicas started by uvicorn (kernel servers run without lifespan)
        yield
        await relay.shutdown()

    app = FastAPI(title="Streaming Lab relay", lifespan=lifespan)
    # a practice drop is no bug: no traceback in the log
    logging.getLogger("uvicorn.error").addFilter(_HIDE_DROPS)
    app.add_middleware(_RelayMiddleware, replica=replica)
    app.state.relay = relay
    app.state.store = stream_store

    async def known(stream_id: str):
        status = await stream_store.status(stream_id) if STREAM_ID.fullmatch(stream_id) else None
        if status is None:  # 404 makes EventSource fail once, for good; an unknown id must not loop
            raise HTTPException(404, "No such stream: it never existed, or it has expired.")
        return status

    @app.post("/streams", status_code=201, openapi_extra=_BODY_DOC)
    async def create_stream(request: Request, params: Annotated[StreamRequest, Depends(read_stream_request)]):
        stream_id = await relay.start(stream_store, params, request.state.request_id)
        if params.hold:
            await hold_until_first_token(stream_store, stream_id)
        url = f"/streams/{stream_id}"
        return JSONResponse({"id": stream_id, "url": url}, status_code=201, headers={"Location": url})

    # The stream is checked in a dependency: it runs before the response starts, so an unknown
    # stream is a 404 and a finished one a 204, never a broken 200.
    async def open_follow(
        stream_id: str,
        last_event_id: Annotated[str | None, Header()] = None,
        last_event_id_query: Annotated[str | None, Query(alias="lastEventId")] = None,
    ) -> int:
        status = await known(stream_id)
        resume = last_event_id or last_event_id_query
        if not resume:
            return 0  # no id: replay from the start, which is what a page reload needs
        parsed = parse_event_id(resume)
        if parsed is None or parsed[0] != stream_id or parsed[1] > status.last_seq:
            raise HTTPException(400, "Last-Event-ID does not name an event of this stream.")
        if status.finished and parsed[1] >= status.last_seq:
            raise HTTPException(204)  # everything delivered: 204 tells EventSource to stop reconnecting
        return parsed[1]

    @app.get("/streams/{stream_id}", response_class=EventSourceResponse)
    async def follow_stream(stream_id: str, request: Request, after: Annotated[int, Depends(open_follow)]):
        async for event in relay.follow(stream_id, after, request.state.request_id):
            yield event

    @app.post("/streams/{stream_id}/stop")
    async def stop_stream(stream_id: str) -> dict:
        status = await known(stream_id)
        if not status.finished:
            await stream_store.request_stop(stream_id)
            if stream_id in relay.stops:  # generated here: no need to wait for the store to be polled
                relay.stops[stream_id].set()
        done = None
        with suppress(TimeoutError, UnknownStream):
            async with asyncio.timeout(10):
                async for item in stream_store.follow(stream_id, max(0, status.last_seq - 1)):
                    done = getattr(item, "data", None)
        return {"id": stream_id, "done": done}

    @app.post("/streams/{stream_id}/drop", status_code=202)
    async def drop_stream(stream_id: str) -> dict:
        await known(stream_id)
        return {"id": stream_id, "dropped": relay.drop(stream_id), "replica": replica}

    # A dependency runs before the response starts: with "hold", a failure before the first token
    # can still be a status code.
    async def start_direct(
        request: Request, params: Annotated[StreamRequest, Depends(read_stream_request)]
    ) -> str:
        stream_id = await relay.start(relay.direct, params, request.state.request_id)
        if params.hold:
            await hold_until_first_token(relay.direct, stream_id)
        return stream_id

    @app.post("/chat", response_class=EventSourceResponse, openapi_extra=_BODY_DOC)
    async def chat(stream_id: Annotated[str, Depends(start_direct)]):
        try:
            async for item in relay.direct.follow(stream_id):
                if not isinstance(item, Gap):  # cannot happen: the direct store keeps every event of a stream
                    # no ids: nothing could resume them
                    yield ServerSentEvent(event=item.event, data=item.data)
        finally:
            # the client left before the end: nobody can come back, so stop the model
            if stream_id in relay.stops:
                relay.stops[stream_id].set()

    add_pages(app, {"/": "eventsource.html", "/fetch": "fetch.html"})
    return app
