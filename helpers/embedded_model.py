"""An OpenAI-compatible chat model that runs inside the kernel, so every lesson works offline.

`POST /v1/chat/completions` answers like the real Chat Completions API, over real HTTP: with
`"stream": true` it sends `chat.completion.chunk` events and `data: [DONE]`, so the official
`openai` SDK and `langchain_openai.ChatOpenAI` run their real code against it. It speaks:

    text          the reply rules are in `helpers.model_replies` (last user message, history)
    tools         `tools` + `tool_choice`; calls streamed as `delta.tool_calls` (the first piece
                  of a call has `index`, `id`, `type` and `function.name`, then the arguments
                  follow in small pieces), parallel calls, `finish_reason: "tool_calls"`;
                  which tool for which message: `helpers.model_tools`
    JSON          `response_format` `json_object` (follows a JSON Schema found in the messages,
                  as LangChain's format instructions include one, else `{"answer": ...}`) and
                  `json_schema` (a value that satisfies the schema: `helpers.schema_values`)
    n             n choices (the model is deterministic, so they are equal), streamed with
                  `index` 0..n-1
    usage         `usage` in every reply, and with `stream_options.include_usage` a last chunk
                  with `choices: []` (the other chunks carry `"usage": null`). Tokens are
                  counted with `tokenize`: each message's text plus 3, plus 3 for the reply,
                  plus the tool definitions; each streamed piece is one completion token
    headers       `x-request-id`, `x-ratelimit-*` (a 500 requests and 200,000 tokens a minute
                  window, counted and reported; only the `rate_limit` fault refuses)
    refusals      401, 404 and 400 exactly where the real API refuses: `helpers.model_request`

The key it accepts is OFFLINE_API_KEY; `chat_model()` sends it.

**Lab options.** A request may carry a `lab` object (with ChatOpenAI:
`extra_body={"lab": {...}}`) that changes this one request:

    tokens              reply length in tokens (the reply text repeats to fill it)
    first_token_delay   seconds before the first token
    token_delay         seconds between tokens
    fault               "error_after", "drop_after", "stall_after", "rate_limit", "server_error", "no_done"
    fault_at            the token count at which an *_after fault fires (default 3)
    retry_after         seconds in the Retry-After header of "rate_limit" (default 2)
    continue            true: the reply is the rest of the answer that the last assistant
                        message began, so a client can resume from the text it kept. Without
                        it, an assistant message is ordinary history.

**A rate limit that ends.** `model.rate_limit_for(seconds)` refuses *every* chat request from the
next one on, for that many seconds, as a used-up quota does, each 429 naming the time left in
`Retry-After`: a client that waits and asks again gets its answer. (The `rate_limit` fault refuses
the one request that carries it, however often it is sent.)

**Records.** `model.requests` (and `model.last`) keep what the model did for each request, so a
lesson can show that upstream work stopped when a client left.
"""

from __future__ import annotations

import asyncio
import json
import math
import os
import sys
import time
import uuid
from collections import deque
from dataclasses import dataclass, field
from itertools import count, cycle

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, StreamingResponse

from . import kernel_server
from .kernel_server import SimulatedDrop
from .model_replies import answer_from_tool_results, reply_for, reply_text, sentences, tokenize
from .model_request import FAULTS, APIError, ChatRequest, check_key, parse_request, text_of
from .model_tools import ToolCall, choose_tool_calls, json_pieces
from .schema_values import value_for

__all__ = [
    "EmbeddedModel",
    "RequestRecord",
    "Reply",
    "reply_for",
    "tokenize",
    "embedded_model",
    "chat_model",
    "server_chat_model",
    "is_embedded",
    "real_api_requested",
    "LazyModel",
    "FAULTS",
    "MODEL_NAME",
    "OFFLINE_API_KEY",
]

MODEL_NAME = "streaming-lab-model"
# The API key the embedded model accepts. It is not a secret: it only makes offline code send an
# Authorization header exactly as it must for the real API.
OFFLINE_API_KEY = "streaming-lab-offline"


@dataclass
class RequestRecord:
    """What the model did for one request: lessons read it to show that upstream work stopped."""

    id: str
    prompt: str  # the question: the last user message
    stream: bool
    fault: str | None
    status: str = "running"  # running, finished, cancelled, error, dropped, rejected
    tokens_sent: int = 0  # completion tokens generated so far, all choices: what a stopped stream cost
    started: float = field(default_factory=time.monotonic)
    ended: float | None = None
    request_id: str = ""  # the x-request-id header
    prompt_tokens: int = 0
    kind: str = "text"  # text, tool_calls or json
    turns: int = 1  # user messages in the conversation

    def end(self, status: str) -> None:
        if self.ended is None:
            self.status, self.ended = status, time.monotonic()

    @property
    def usage(self) -> dict:
        return {
            "prompt_tokens": self.prompt_tokens,
            "completion_tokens": self.tokens_sent,
            "total_tokens": self.prompt_tokens + self.tokens_sent,
        }


@dataclass
class Reply:
    """What the model will send for one request, decided before the first byte."""

    question: str
    kind: str  # text, tool_calls, json
    pieces: list[str]  # the content, one token each (text and json)
    tool_calls: list[ToolCall]
    finish_reason: str
    prompt_tokens: int
    turns: int

    @property
    def content(self) -> str | None:
        return None if self.kind == "tool_calls" else "".join(self.pieces)

    def deltas(self) -> list[dict]:
        """One choice's deltas after the role chunk: one token each."""
        if self.kind != "tool_calls":
            return [{"content": piece} for piece in self.pieces]
        deltas = []
        for index, call in enumerate(self.tool_calls):
            deltas.append(
                {
                    "tool_calls": [
                        {
                            "index": index,
                            "id": call.id,
                            "type": "function",
                            "function": {"name": call.name, "arguments": ""},
                        }
                    ]
                }
            )
            deltas += [
                {"tool_calls": [{"index": index, "function": {"arguments": piece}}]}
                for piece in json_pieces(call.arguments)
            ]
        return deltas


def plan_reply(chat: ChatRequest) -> Reply:
    """Decide the reply: tool calls, JSON or text, by the rules in the module docstrings."""
    messages = chat.messages
    users = [i for i, m in enumerate(messages) if m["role"] == "user"]
    if chat.lab.get("continue"):  # the question is the one the last assistant message was answering
        last_ai = max((i for i, m in enumerate(messages) if m["role"] == "assistant"), default=len(messages))
        users = [i for i in users if i < last_ai] or users
    question = text_of(messages[users[-1]].get("content")) if users else ""
    history = [text_of(messages[i].get("content")) for i in users[:-1]]
    after = messages[users[-1] + 1 :] if users else messages
    call_names = {
        c.get("id"): c.get("function", {}).get("name", "")
        for m in after
        if m["role"] == "assistant"
        for c in m.get("tool_calls") or []
    }
    results = [
        (call_names.get(m.get("tool_call_id"), "tool"), text_of(m.get("content")))
        for m in after
        if m["role"] == "tool"
    ]
    prompt_tokens = _prompt_tokens(chat)

    def reply(kind, pieces=(), calls=(), finish="stop"):
        return Reply(question, kind, list(pieces), list(calls), finish, prompt_tokens, max(1, len(users)))

    if not chat.lab.get("continue"):
        step = sum(1 for m in after if m["role"] == "assistant")
        calls = choose_tool_calls(
            chat.tools,
            chat.tool_choice,
            question,
            {name for name, _ in results},
            parallel=chat.parallel_tool_calls,
            step=step,
        )
        if calls:
            return reply("tool_calls", calls=calls, finish="tool_calls")
    if chat.response_format is not None:
        value = _json_value(chat.response_format, messages, question, history)
        return _cut(reply("json", json_pieces(json.dumps(value, ensure_ascii=False))), chat.max_tokens)
    if results:
        return _cut(reply("text", tokenize(answer_from_tool_results(question, results))), chat.max_tokens)
    tokens = reply_for(question, chat.lab.get("tokens"), history=history)
    if chat.lab.get("continue"):
        partial = text_of(messages[last_ai].get("content")) if last_ai < len(messages) else ""
        full = "".join(tokens)
        if partial and full.startswith(partial):  # the rest of the same reply
            tokens = tokenize(full[len(partial) :]) if len(full) > len(partial) else []
    return _cut(reply("text", tokens), chat.max_tokens)


def _cut(reply: Reply, max_tokens: int | None) -> Reply:
    if max_tokens is not None and len(reply.pieces) > max_tokens:
        reply.pieces, reply.finish_reason = reply.pieces[:max_tokens], "length"
    return reply


def _json_value(fmt: dict, messages: list[dict], question: str, history: list[str]):
    texts = cycle(sentences(reply_text(question, history)) or [question])
    if fmt["type"] == "json_schema":
        return value_for(fmt["json_schema"].get("schema") or {}, texts, question)
    schema = _schema_in(messages)
    return value_for(schema, texts, question) if schema else {"answer": reply_text(question, history)}


def _schema_in(messages: list[dict]) -> dict | None:
    """The last JSON Schema written into the messages (format instructions put one there)."""
    decoder, found = json.JSONDecoder(), None
    for message in messages:
        text = text_of(message.get("content"))
        start = text.find("{")
        while start != -1:
            try:
                value, end = decoder.raw_decode(text, start)
            except json.JSONDecodeError:
                start = text.find("{", start + 1)
                continue
            if (
                isinstance(value, dict)
                and isinstance(value.get("properties"), dict)
                and all(isinstance(v, dict) for v in value["properties"].values())
            ):
                found = value
            start = text.find("{", end)
    return found


def _prompt_tokens(chat: ChatRequest) -> int:
    total = 3  # the reply's priming, as OpenAI's own counting guide has it
    for message in chat.messages:
        total += 3 + len(tokenize(text_of(message.get("content"))))
        for call in message.get("tool_calls") or []:
            total += 1 + len(json_pieces(call.get("function", {}).get("arguments", "")))
    if chat.tools:
        total += len(json_pieces(json.dumps(chat.tools)))
    return total


class _RateWindow:
    """Requests and tokens in the last minute, reported in the real API's `x-ratelimit-*` headers."""

    def __init__(self, requests: int = 500, tokens: int = 200_000, window: float = 60.0) -> None:
        self.limit_requests, self.limit_tokens, self.window = requests, tokens, window
        self.seen: deque[tuple[float, int]] = deque()

    def headers(self, tokens: int) -> dict:
        now = time.monotonic()
        while self.seen and self.seen[0][0] <= now - self.window:
            self.seen.popleft()
        self.seen.append((now, tokens))
        used = sum(n for _, n in self.seen)
        reset = self.seen[0][0] + self.window - now
        return {
            "x-ratelimit-limit-requests": str(self.limit_requests),
            "x-ratelimit-limit-tokens": str(self.limit_tokens),
            "x-ratelimit-remaining-requests": str(max(0, self.limit_requests - len(self.seen))),
            "x-ratelimit-remaining-tokens": str(max(0, self.limit_tokens - used)),
            "x-ratelimit-reset-requests": _duration(reset),
            "x-ratelimit-reset-tokens": _duration(reset * used / self.limit_tokens),
        }


def _duration(seconds: float) -> str:
    """The real headers' style: "12ms", "6.5s"."""
    return f"{max(0, round(seconds * 1000))}ms" if seconds < 1 else f"{seconds:.3g}s"


class EmbeddedModel:
    """The model's state and its ASGI app (`.app`); `start()` serves it in the kernel."""

    def __init__(self, first_token_delay: float = 0.3, token_delay: float = 0.04) -> None:
        self.first_token_delay = first_token_delay
        self.token_delay = token_delay
        self.requests: deque[RequestRecord] = deque(maxlen=200)
        self._ids = count(1)
        self._rate = _RateWindow()
        self._refuse_for = 0.0  # armed by rate_limit_for: the window opens at the next request ...
        self._refuse_until = 0.0  # ... and lasts until this time.monotonic()
        self.app = FastAPI(title="Streaming Lab embedded model")
        self.app.post("/v1/chat/completions")(self._chat_completions)
        self.app.get("/v1/models")(self._models)
        self.app.get("/v1/models/{model}")(self._model)
        self.handle: kernel_server.ServerHandle | None = None

    @property
    def last(self) -> RequestRecord | None:
        return self.requests[-1] if self.requests else None

    async def settled(self, timeout: float = 10.0) -> RequestRecord | None:
        """The last request's record once it has ended, or still `running` after `timeout` seconds.

        A cancel reaches the model a moment after the client acts: the model's server must notice
        the closed connection. A lesson that shows the model stopped waits for that, with a bound
        generous enough for a busy machine, instead of sleeping a fixed time and hoping.
        """
        deadline = time.monotonic() + timeout
        while self.last is not None and self.last.status == "running" and time.monotonic() < deadline:
            await asyncio.sleep(0.01)
        return self.last

    def rate_limit_for(self, seconds: float) -> _QuotaWindow:
        """Refuse every chat request for the next `seconds` with a 429, as when a quota is used up.

        The window opens at the next request, not now, so that however long a client takes to send
        it, its first request is refused. Each 429 carries `Retry-After`: the time left, in whole
        seconds rounded up, so a client that honours it asks again after the window.
        `with model.rate_limit_for(30):` ends the window on exit.
        """
        self._refuse_for, self._refuse_until = seconds, 0.0
        return _QuotaWindow(self)

    def _refusing_for(self) -> float:
        """Seconds left in the rate-limit window (opening it if armed); 0 when there is none."""
        now = time.monotonic()
        if self._refuse_for > 0:
            self._refuse_for, self._refuse_until = 0.0, now + self._refuse_for
        return max(0.0, self._refuse_until - now)

    def start(self, name: str = "embedded-model") -> kernel_server.ServerHandle:
        if self.handle is None or not self.handle.running:
            self.handle = kernel_server.serve(self.app, name=name)
        return self.handle

    @property
    def base_url(self) -> str:
        return f"{self.start().url}/v1"

    async def _models(self, request: Request):
        try:
            check_key(request.headers.get("authorization"), OFFLINE_API_KEY)
        except APIError as exc:
            return exc.response()
        return {"object": "list", "data": [_model_card()]}

    async def _model(self, model: str, request: Request):
        try:
            check_key(request.headers.get("authorization"), OFFLINE_API_KEY)
            if model != MODEL_NAME:
                raise APIError(
                    404,
                    f"The model `{model}` does not exist or you do not have access to it.",
                    code="model_not_found",
                )
        except APIError as exc:
            return exc.response()
        return _model_card()

    async def _chat_completions(self, request: Request):
        headers = {"x-request-id": f"req_{uuid.uuid4().hex}"}
        try:
            chat = await _read_chat_request(request)
        except APIError as exc:
            return exc.response(headers)
        reply = plan_reply(chat)
        headers.update(self._rate.headers(reply.prompt_tokens + len(reply.deltas()) * chat.n))
        record = RequestRecord(
            id=f"chatcmpl-lab-{next(self._ids)}",
            prompt=reply.question,
            stream=chat.stream,
            fault=chat.lab.get("fault"),
            request_id=headers["x-request-id"],
            prompt_tokens=reply.prompt_tokens,
            kind=reply.kind,
            turns=reply.turns,
        )
        self.requests.append(record)
        refusal = self._refusal(record, chat, headers)
        if refusal is not None:
            return refusal
        pace = (
            float(chat.lab.get("first_token_delay", self.first_token_delay)),
            float(chat.lab.get("token_delay", self.token_delay)),
        )
        if not chat.stream:
            return await self._whole(record, reply, chat, pace, headers)
        stream = _Stream(record, reply, chat, pace)
        return StreamingResponse(
            stream.chunks(), media_type="text/event-stream", headers={**headers, "Cache-Control": "no-cache"}
        )

    def _refusal(self, record: RequestRecord, chat: ChatRequest, headers: dict):
        """A 429 or a 500 before any token (a `rate_limit` or `server_error` fault, or a rate limit
        set with `rate_limit_for`), with the real API's headers and body; None when the model answers."""
        fault, refused_for = record.fault, self._refusing_for()
        if fault not in ("rate_limit", "server_error") and refused_for <= 0:
            return None
        record.end("rejected")
        if fault == "rate_limit" or refused_for > 0:
            retry_after = math.ceil(refused_for) if refused_for > 0 else chat.lab.get("retry_after", 2)
            headers.update({"x-ratelimit-remaining-requests": "0", "Retry-After": str(retry_after)})
            return APIError(
                429,
                "Rate limit reached for requests; retry later.",
                type="requests",
                code="rate_limit_exceeded",
            ).response(headers)
        return APIError(500, "The model failed before answering.", type="server_error").response(headers)

    async def _whole(
        self, record: RequestRecord, reply: Reply, chat: ChatRequest, pace: tuple[float, float], headers: dict
    ):
        tokens = len(reply.deltas())
        try:
            await asyncio.sleep(pace[0] + pace[1] * max(0, tokens - 1))
        except asyncio.CancelledError:
            record.end("cancelled")
            raise
        record.tokens_sent = tokens * chat.n
        record.end("finished")
        message = {"role": "assistant", "content": reply.content, "refusal": None}
        if reply.tool_calls:
            message["tool_calls"] = [
                {"id": c.id, "type": "function", "function": {"name": c.name, "arguments": c.arguments}}
                for c in reply.tool_calls
            ]
        body = {
            "id": record.id,
            "object": "chat.completion",
            "created": int(time.time()),
            "model": MODEL_NAME,
            "choices": [
                {"index": i, "message": message, "logprobs": None, "finish_reason": reply.finish_reason}
                for i in range(chat.n)
            ],
            "usage": record.usage,
        }
        return JSONResponse(body, headers=headers)


class _QuotaWindow:
    """What `rate_limit_for` returns: a context manager that ends the window early."""

    def __init__(self, model: EmbeddedModel) -> None:
        self.model = model

    def __enter__(self) -> _QuotaWindow:
        return self

    def __exit__(self, *exc) -> None:
        self.model._refuse_for = self.model._refuse_until = 0.0


def _model_card() -> dict:
    return {"id": MODEL_NAME, "object": "model", "created": 0, "owned_by": "streaming-lab"}


class _Stream:
    """The chunks of one streamed reply, paced, with the lab's faults, recording what was sent."""

    def __init__(
        self, record: RequestRecord, reply: Reply, chat: ChatRequest, pace: tuple[float, float]
    ) -> None:
        self.record, self.reply, self.chat, self.pace = record, reply, chat, pace
        self.created = int(time.time())

    def _event(self, choices: list[dict], **extra) -> bytes:
        payload = {
            "id": self.record.id,
            "object": "chat.completion.chunk",
            "created": self.created,
            "model": MODEL_NAME,
            "choices": choices,
            **extra,
        }
        if self.chat.include_usage:
            payload.setdefault("usage", None)  # as the API reference says: null on every chunk but the last
        return f"data: {json.dumps(payload, ensure_ascii=False)}\n\n".encode()

    def _step(self, delta: dict, finish: str | None = None) -> bytes:
        return self._event(
            [
                {"index": i, "delta": delta, "logprobs": None, "finish_reason": finish}
                for i in range(self.chat.n)
            ]
        )

    async def chunks(self):
        record, lab = self.record, self.chat.lab
        fault, fault_at = lab.get("fault"), int(lab.get("fault_at", 3))
        first_delay, token_delay = self.pace
        start = time.monotonic()
        try:
            yield self._step(
                {
                    "role": "assistant",
                    "content": None if self.reply.kind == "tool_calls" else "",
                    "refusal": None,
                }
            )
            for i, delta in enumerate(self.reply.deltas()):
                if i == fault_at and fault in ("error_after", "drop_after", "stall_after"):
                    if fault == "error_after":
                        record.end("error")
                        error = {
                            "message": "The model failed mid-answer (simulated).",
                            "type": "server_error",
                            "param": None,
                            "code": "model_error",
                        }
                        yield f"data: {json.dumps({'error': error})}\n\n".encode()
                        return
                    if fault == "drop_after":
                        record.end("dropped")
                        raise SimulatedDrop("simulated network drop")
                    await asyncio.sleep(3600)  # stall: only a client timeout or disconnect ends it
                await asyncio.sleep(max(0.0, start + first_delay + i * token_delay - time.monotonic()))
                yield self._step(delta)
                record.tokens_sent = (i + 1) * self.chat.n
            yield self._step({}, self.reply.finish_reason)
            if self.chat.include_usage:
                yield self._event([], usage=record.usage)
            if fault != "no_done":
                yield b"data: [DONE]\n\n"
            record.end("finished")
        except (asyncio.CancelledError, GeneratorExit):
            record.end("cancelled")  # the client went away: stop generating
            raise


_model: EmbeddedModel | None = None


def embedded_model(**settings) -> EmbeddedModel:
    """The kernel's one embedded model, started on first use; `settings` change its default pace."""
    global _model
    if _model is None:
        _model = EmbeddedModel()
    for key, value in settings.items():
        if key not in ("first_token_delay", "token_delay"):
            raise TypeError(f"unknown setting {key!r}")
        setattr(_model, key, value)
    _model.start()
    return _model


def chat_model(*, quiet: bool = False, offline: bool = False, **kwargs):
    """A `ChatOpenAI`: the real API when OPENAI_API_KEY is set, else the embedded model over real HTTP.

    `offline=True` always uses the embedded model: lessons that inject faults or compare
    exact replies need it. Both report usage while streaming (`stream_usage`), as ChatOpenAI
    does by default for the real API only.
    """
    from langchain_openai import ChatOpenAI

    kwargs.setdefault("stream_usage", True)
    if sys.version_info < (3, 12):
        # LangChain bounds each streamed chunk with asyncio.wait_for, which on Python 3.11 can
        # swallow a cancellation that arrives as a chunk completes (CPython gh-86296, fixed in
        # 3.12): the cancelled task then reads the stream to its end and the model never sees
        # the client leave. None turns that per-chunk bound off; the HTTP timeouts remain.
        kwargs.setdefault("stream_chunk_timeout", None)
    if real_api_requested(offline=offline):
        kwargs.setdefault("model", os.environ.get("OPENAI_MODEL", "gpt-4o-mini"))
        kwargs.pop("extra_body", None)  # lab controls mean nothing to the real API
        if not quiet:
            print(f"Using the real OpenAI API (model {kwargs['model']}).")
        return ChatOpenAI(**kwargs)
    model = embedded_model()
    if not quiet:
        print("Using the embedded model (offline, in this kernel). Set OPENAI_API_KEY to use the real API.")
    return ChatOpenAI(base_url=model.base_url, api_key=OFFLINE_API_KEY, model=MODEL_NAME, **kwargs)


def real_api_requested(*, offline: bool = False) -> bool:
    """Whether the course talks to the real API: OPENAI_API_KEY is set and `offline` was not asked for.

    The one rule `chat_model()` and the capstone's service loader both follow.
    """
    return bool(os.environ.get("OPENAI_API_KEY")) and not offline


def is_embedded(llm) -> bool:
    """Whether `llm` (a ChatOpenAI) talks to the embedded model: only then do `lab` options mean anything."""
    key = getattr(llm, "openai_api_key", None)
    key = key.get_secret_value() if hasattr(key, "get_secret_value") else key
    return getattr(llm, "openai_api_base", None) is not None and key == OFFLINE_API_KEY


def server_chat_model(**kwargs):
    """A `ChatOpenAI` for code running in a server thread: quiet, with an HTTP client of its own.

    An async HTTP client belongs to the event loop that first used it, and ChatOpenAI
    shares one default client per base URL. A server in its own thread has its own
    loop, so it must not share the client the notebook's cells use.
    """
    import httpx

    # No retries inside the SDK: the relay retries before the first token itself, where it can tell
    # the page and keep one budget (helpers.model_retry); two retry layers would multiply attempts.
    # Servers without such a loop (the source's handler) show the refusal as it came: a demonstration.
    kwargs.setdefault("max_retries", 0)
    return chat_model(
        quiet=True, http_async_client=httpx.AsyncClient(timeout=httpx.Timeout(60.0, read=None)), **kwargs
    )


class LazyModel:
    """A chat model made on first use, so it belongs to the event loop that first uses it.

    A server builds its routes before its loop runs; `LazyModel(factory)` stands in for the
    model until the first request, then passes every attribute to `factory()`'s model.
    `LazyModel()` uses `server_chat_model`.
    """

    def __init__(self, factory=server_chat_model) -> None:
        self._factory = factory
        self._model = None

    @property
    def model(self):
        if self._model is None:
            self._model = self._factory()
        return self._model

    def __getattr__(self, name: str):
        if name.startswith("_"):  # never build the model for private lookups (copy, pickle, repr)
            raise AttributeError(name)
        return getattr(self.model, name)

    def __repr__(self) -> str:
        return f"LazyModel({'not made yet' if self._model is None else self._model.__class__.__name__})"


async def _read_chat_request(request: Request) -> ChatRequest:
    """The request checked in the real API's order: the key first (401), then the body (400, 404)."""
    check_key(request.headers.get("authorization"), OFFLINE_API_KEY)
    try:
        body = await request.json()
    except ValueError:
        body = None
    return parse_request(body, MODEL_NAME)
