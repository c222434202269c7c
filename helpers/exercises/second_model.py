"""A second model for exercise 04: OpenAI-compatible, but it puts several tokens in each chunk.

A **simulation** of a provider that groups tokens: nothing obliges an API to send one token per
chunk (notebook 09 measures it), and a relay that counts chunks and calls them tokens reports the
wrong cost. The reply is the embedded model's text for the question, written as a list (so some
tokens carry line breaks), and its tokens are `helpers.model_replies.tokenize`'s. It streams the
real Chat Completions format: a role chunk, chunks of 1 to 4 tokens, a finish chunk, a usage chunk
when `stream_options.include_usage` asks for it, and `data: [DONE]`. Each request is recorded.

A check can tell a live relay from one that waits for the end, whatever the machine's load:
`next_gate` makes the next answer hold its second chunk until the reader says the first one came
through (or GATE_WAIT seconds pass, which a relay that waits for the end always lets happen).
"""

from __future__ import annotations

import asyncio
import json
import sys
import threading
import time
from dataclasses import dataclass, field
from itertools import cycle

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, StreamingResponse

from ..model_replies import reply_text, sentences, tokenize

__all__ = ["SecondModel", "Sent", "second_model", "running_second_model", "TOKENS_PER_CHUNK"]

TOKENS_PER_CHUNK = (3, 1, 4, 2)  # the chunk sizes, in turn
NAME = "second-model"
GATE_WAIT = (
    5.0  # seconds the model holds its second chunk for a reader that asked it to (generous: a busy machine)
)


@dataclass
class Sent:
    """What the second model sent for one request."""

    question: str
    chunks: list[str] = field(default_factory=list)  # the text of each chunk that carried text
    completion_tokens: int = 0
    finished: bool = False  # the last text chunk is out
    gate: threading.Event | None = None  # set by the reader once the first chunk reached it
    gate_timed_out: bool = False  # the model waited GATE_WAIT s after its first chunk, and nobody read it

    @property
    def text(self) -> str:
        return "".join(self.chunks)


def answer_tokens(question: str) -> list[str]:
    """The reply as a list of points, one per sentence, as tokens."""
    return tokenize("\n".join(f"- {sentence}" for sentence in sentences(reply_text(question))))


class SecondModel:
    def __init__(self, first_token_delay: float = 0.05, chunk_delay: float = 0.02) -> None:
        self.first_token_delay, self.chunk_delay = first_token_delay, chunk_delay
        self.requests: list[Sent] = []
        self.next_gate: threading.Event | None = (
            None  # the next request holds its second chunk until this is set
        )
        self.app = FastAPI(title="Streaming Lab: a second model (several tokens per chunk)")
        self.app.post("/v1/chat/completions")(self._completions)
        self.handle = None

    @property
    def last(self) -> Sent | None:
        return self.requests[-1] if self.requests else None

    async def _completions(self, request: Request):
        body = await request.json()
        users = [m for m in body.get("messages", []) if m.get("role") == "user"]
        content = users[-1].get("content", "") if users else ""
        question = (
            content
            if isinstance(content, str)
            else " ".join(p.get("text", "") for p in content if isinstance(p, dict))
        )
        tokens, sent = answer_tokens(question), Sent(question, gate=self.next_gate)
        self.next_gate = None
        self.requests.append(sent)
        include_usage = bool((body.get("stream_options") or {}).get("include_usage"))
        usage = {"prompt_tokens": len(tokenize(question)) + 7, "completion_tokens": len(tokens)}
        usage["total_tokens"] = usage["prompt_tokens"] + usage["completion_tokens"]
        if not body.get("stream"):
            sent.chunks, sent.completion_tokens, sent.finished = ["".join(tokens)], len(tokens), True
            message = {"role": "assistant", "content": "".join(tokens)}
            return JSONResponse(
                {
                    "id": "chatcmpl-second",
                    "object": "chat.completion",
                    "created": int(time.time()),
                    "model": NAME,
                    "choices": [{"index": 0, "message": message, "finish_reason": "stop"}],
                    "usage": usage,
                }
            )
        return StreamingResponse(
            self._chunks(sent, tokens, usage, include_usage), media_type="text/event-stream"
        )

    async def _chunks(self, sent: Sent, tokens: list[str], usage: dict, include_usage: bool):
        created = int(time.time())

        def event(choices, **extra) -> bytes:
            payload = {
                "id": "chatcmpl-second",
                "object": "chat.completion.chunk",
                "created": created,
                "model": NAME,
                "choices": choices,
                **extra,
            }
            if include_usage:
                payload.setdefault("usage", None)
            return f"data: {json.dumps(payload, ensure_ascii=False)}\n\n".encode()

        def step(delta, finish=None) -> bytes:
            return event([{"index": 0, "delta": delta, "finish_reason": finish}])

        yield step({"role": "assistant", "content": ""})
        await asyncio.sleep(self.first_token_delay)
        sizes, i = cycle(TOKENS_PER_CHUNK), 0
        while i < len(tokens):
            size = next(sizes)
            text = "".join(tokens[i : i + size])
            i += size
            yield step({"content": text})
            sent.chunks.append(text)
            sent.completion_tokens = min(i, len(tokens))
            # a reader wants to know if the first chunk reaches it alone
            if sent.gate is not None and len(sent.chunks) == 1:
                deadline = time.monotonic() + GATE_WAIT
                while not sent.gate.is_set() and time.monotonic() < deadline:
                    await asyncio.sleep(0.01)
                sent.gate_timed_out = not sent.gate.is_set()
            await asyncio.sleep(self.chunk_delay)
        sent.finished = True
        yield step({}, "stop")
        if include_usage:
            yield event([], usage=usage)
        yield b"data: [DONE]\n\n"

    def start(self):
        from ..kernel_server import serve

        if self.handle is None or not self.handle.running:
            self.handle = serve(self.app, name="exercise-04-second-model")
        return self.handle


_model: SecondModel | None = None


def running_second_model() -> SecondModel:
    """The kernel's one second model, started on first use: its records are what a check compares with."""
    global _model
    if _model is None:
        _model = SecondModel()
    _model.start()
    return _model


def second_model():
    """A `ChatOpenAI` that talks to the second model, over real HTTP, offline (no key is needed)."""
    from langchain_openai import ChatOpenAI

    handle = running_second_model().handle
    # as chat_model() does on 3.11
    options = {"stream_chunk_timeout": None} if sys.version_info < (3, 12) else {}
    return ChatOpenAI(
        base_url=f"{handle.url}/v1",
        api_key="not-needed-offline",
        model=NAME,
        stream_usage=True,
        max_retries=0,
        **options,
    )
