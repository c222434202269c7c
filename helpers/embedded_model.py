"""An OpenAI-compatible chat model that runs inside the kernel, so every lesson works offline.

`POST /v1/chat/completions` answers like the real API: with `"stream": true` it sends
`chat.completion.chunk` events and `data: [DONE]` over real HTTP, so `openai` and
`langchain_openai.ChatOpenAI` run their real streaming code against it.

A request may carry a `lab` object (with ChatOpenAI: `extra_body={"lab": {...}}`) to change
the pace or switch on a fault for that request only:

    tokens              reply length in tokens (the reply text repeats to fill it)

With an assistant message after the question (a "continue" request), the reply is the
rest of the same answer, so a client can resume from the text it kept.
    first_token_delay   seconds before the first token
    token_delay         seconds between tokens
    fault               "error_after", "drop_after", "stall_after", "rate_limit", "server_error", "no_done"
    fault_at            the token count at which an *_after fault fires (default 3)
    retry_after         seconds in the Retry-After header of "rate_limit" (default 2)
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import time
from collections import deque
from dataclasses import dataclass, field
from itertools import count

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, StreamingResponse

from . import kernel_server
from .kernel_server import SimulatedDrop

__all__ = ["EmbeddedModel", "RequestRecord", "reply_for", "tokenize", "embedded_model", "chat_model", "server_chat_model", "is_embedded", "FAULTS", "MODEL_NAME", "OFFLINE_API_KEY"]

FAULTS = ("error_after", "drop_after", "stall_after", "rate_limit", "server_error", "no_done")
MODEL_NAME = "streaming-lab-model"
# The API key the embedded model accepts. It is not a secret: it only makes offline code send an
# Authorization header exactly as it must for the real API.
OFFLINE_API_KEY = "streaming-lab-offline"

_ENGLISH_REPLY = (
    "Streaming sends the answer while it is being written. The server keeps one HTTP response open "
    "and writes each token as a small Server-Sent Event, so the first words arrive long before the "
    "last ones are generated. The total time stays about the same; the wait before something "
    "useful appears gets much shorter."
)
_TOPIC_REPLIES = {
    "websocket": (
        "WebSocket is a separate protocol reached through an HTTP upgrade. It carries messages both "
        "ways, which a chat answer does not need. Server-Sent Events stay plain HTTP, reconnect by "
        "themselves and resume with Last-Event-ID."
    ),
    "error": (
        "Once the first byte is sent the status code is fixed at 200. An error that happens later "
        "must travel inside the stream as an event, and the client keeps the text it already has."
    ),
}
_CHINESE_REPLY = (
    "流式输出是在生成答案的同时把它发送出去。服务器保持一个 HTTP 响应不关闭，"
    "每生成一个词就写出一个 SSE 事件，所以用户很快就能看到第一句话。"
)


_CJK = re.compile(r"[\u3000-\u9fff\uff00-\uffef]")


def tokenize(text: str) -> list[str]:
    """Split like a model would emit: words with their leading space, CJK two characters at a time."""
    tokens: list[str] = []
    for piece in re.findall(r"\s*\S+", text):
        if _CJK.search(piece):
            word = piece.lstrip()
            pairs = [word[i : i + 2] for i in range(0, len(word), 2)]
            tokens.extend([piece[: len(piece) - len(word)] + pairs[0], *pairs[1:]])
        else:
            tokens.append(piece)
    return tokens


def reply_for(prompt: str, tokens: int | None = None) -> list[str]:
    """The deterministic reply to `prompt`, as tokens; `tokens` sets its length."""
    if _CJK.search(prompt):
        text = _CHINESE_REPLY
    else:
        lowered = prompt.lower()
        text = next((reply for key, reply in _TOPIC_REPLIES.items() if key in lowered), _ENGLISH_REPLY)
    base = tokenize(text)
    if tokens is None:
        return base
    return [base[i % len(base)] for i in range(max(0, tokens))]


@dataclass
class RequestRecord:
    """What the model did for one request: lessons read it to show that upstream work stopped."""

    id: str
    prompt: str
    stream: bool
    fault: str | None
    status: str = "running"  # running, finished, cancelled, error, dropped, rejected
    tokens_sent: int = 0
    started: float = field(default_factory=time.monotonic)
    ended: float | None = None

    def end(self, status: str) -> None:
        if self.ended is None:
            self.status, self.ended = status, time.monotonic()


class EmbeddedModel:
    """The model's state and its ASGI app (`.app`); `start()` serves it in the kernel."""

    def __init__(self, first_token_delay: float = 0.3, token_delay: float = 0.04) -> None:
        self.first_token_delay = first_token_delay
        self.token_delay = token_delay
        self.requests: deque[RequestRecord] = deque(maxlen=200)
        self._ids = count(1)
        self.app = FastAPI(title="Streaming Lab embedded model")
        self.app.post("/v1/chat/completions")(self._chat_completions)
        self.app.get("/v1/models")(self._models)
        self.handle: kernel_server.ServerHandle | None = None

    @property
    def last(self) -> RequestRecord | None:
        return self.requests[-1] if self.requests else None

    def start(self, name: str = "embedded-model") -> kernel_server.ServerHandle:
        if self.handle is None or not self.handle.running:
            self.handle = kernel_server.serve(self.app, name=name)
        return self.handle

    @property
    def base_url(self) -> str:
        return f"{self.start().url}/v1"

    async def _models(self) -> dict:
        return {"object": "list", "data": [{"id": MODEL_NAME, "object": "model", "owned_by": "streaming-lab"}]}

    async def _chat_completions(self, request: Request):
        try:
            body = await request.json()
            messages = body["messages"]
            users = [_text_of(m.get("content", "")) for m in messages if m.get("role") == "user"]
            partial = "".join(_text_of(m.get("content", "")) for m in messages if m.get("role") == "assistant")
        except (ValueError, KeyError, TypeError, AttributeError):
            return _error(400, "invalid_request_error", "Expected a JSON body with a 'messages' list.")
        lab = body.get("lab") or {}
        fault = lab.get("fault")
        if fault is not None and fault not in FAULTS:
            return _error(400, "invalid_request_error", f"Unknown fault {fault!r}; choose one of {', '.join(FAULTS)}.")
        prompt = users[0] if users else ""
        record = RequestRecord(id=f"chatcmpl-lab-{next(self._ids)}", prompt=prompt, stream=bool(body.get("stream")), fault=fault)
        self.requests.append(record)
        if fault == "rate_limit":
            record.end("rejected")
            retry_after = str(lab.get("retry_after", 2))
            return _error(429, "rate_limit_exceeded", "Rate limit reached; retry later.", {"Retry-After": retry_after})
        if fault == "server_error":
            record.end("rejected")
            return _error(500, "server_error", "The model failed before answering.")
        tokens = reply_for(prompt, lab.get("tokens"))
        full = "".join(tokens)
        if partial and full.startswith(partial):  # "continue": the rest of the same reply
            tokens = tokenize(full[len(partial):]) if len(full) > len(partial) else []
        max_tokens = body.get("max_completion_tokens") or body.get("max_tokens")
        finish_reason = "stop"
        if max_tokens is not None and len(tokens) > max_tokens:
            tokens, finish_reason = tokens[:max_tokens], "length"
        pace = (float(lab.get("first_token_delay", self.first_token_delay)), float(lab.get("token_delay", self.token_delay)))
        usage = {"prompt_tokens": len(tokenize(prompt)), "completion_tokens": len(tokens), "total_tokens": len(tokenize(prompt)) + len(tokens)}
        if not record.stream:
            try:
                await asyncio.sleep(pace[0] + pace[1] * max(0, len(tokens) - 1))
            except asyncio.CancelledError:
                record.end("cancelled")
                raise
            record.tokens_sent = len(tokens)
            record.end("finished")
            return {
                "id": record.id, "object": "chat.completion", "created": int(time.time()), "model": MODEL_NAME,
                "choices": [{"index": 0, "message": {"role": "assistant", "content": "".join(tokens)}, "finish_reason": finish_reason}],
                "usage": usage,
            }
        include_usage = bool((body.get("stream_options") or {}).get("include_usage"))
        chunks = self._stream(record, tokens, pace, finish_reason, usage if include_usage else None, fault, int(lab.get("fault_at", 3)))
        return StreamingResponse(chunks, media_type="text/event-stream", headers={"Cache-Control": "no-cache"})

    async def _stream(self, record, tokens, pace, finish_reason, usage, fault, fault_at):
        first_delay, token_delay = pace
        start = time.monotonic()

        def chunk(delta: dict, finish: str | None = None, **extra) -> bytes:
            payload = {
                "id": record.id, "object": "chat.completion.chunk", "created": int(time.time()), "model": MODEL_NAME,
                "choices": [{"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish}], **extra,
            }
            return f"data: {json.dumps(payload, ensure_ascii=False)}\n\n".encode()

        try:
            yield chunk({"role": "assistant", "content": ""})
            for i, token in enumerate(tokens):
                if i == fault_at and fault in ("error_after", "drop_after", "stall_after"):
                    if fault == "error_after":
                        record.end("error")
                        error = {"message": "The model failed mid-answer (simulated).", "type": "server_error", "code": "model_error"}
                        yield f"data: {json.dumps({'error': error})}\n\n".encode()
                        return
                    if fault == "drop_after":
                        record.end("dropped")
                        raise SimulatedDrop("simulated network drop")
                    await asyncio.sleep(3600)  # stall: only a client timeout or disconnect ends it
                await asyncio.sleep(max(0.0, start + first_delay + i * token_delay - time.monotonic()))
                yield chunk({"content": token})
                record.tokens_sent = i + 1
            yield chunk({}, finish_reason)
            if usage is not None:
                payload = {"id": record.id, "object": "chat.completion.chunk", "created": int(time.time()), "model": MODEL_NAME, "choices": [], "usage": usage}
                yield f"data: {json.dumps(payload)}\n\n".encode()
            if fault != "no_done":
                yield b"data: [DONE]\n\n"
            record.end("finished")
        except (asyncio.CancelledError, GeneratorExit):
            record.end("cancelled")  # the client went away: stop generating
            raise


def _text_of(content) -> str:
    if isinstance(content, str):
        return content
    return "".join(part.get("text", "") for part in content if isinstance(part, dict))


def _error(status: int, code: str, message: str, headers: dict | None = None) -> JSONResponse:
    kind = "invalid_request_error" if status == 400 else code
    return JSONResponse({"error": {"message": message, "type": kind, "code": code}}, status_code=status, headers=headers)


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
    exact replies need it.
    """
    from langchain_openai import ChatOpenAI

    if os.environ.get("OPENAI_API_KEY") and not offline:
        kwargs.setdefault("model", os.environ.get("OPENAI_MODEL", "gpt-4o-mini"))
        kwargs.pop("extra_body", None)  # lab controls mean nothing to the real API
        if not quiet:
            print(f"Using the real OpenAI API (model {kwargs['model']}).")
        return ChatOpenAI(**kwargs)
    model = embedded_model()
    if not quiet:
        print("Using the embedded model (offline, in this kernel). Set OPENAI_API_KEY to use the real API.")
    return ChatOpenAI(base_url=model.base_url, api_key=OFFLINE_API_KEY, model=MODEL_NAME, **kwargs)


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

    kwargs.setdefault("max_retries", 0)  # tell the client about a 429 at once, with its Retry-After
    return chat_model(quiet=True, http_async_client=httpx.AsyncClient(timeout=httpx.Timeout(60.0, read=None)), **kwargs)
