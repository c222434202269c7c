"""Concurrency inside one worker: one model stream relayed four ways, by one app.

    GET /sync        a `def` generator with the synchronous `openai` client: StreamingResponse
                     runs each `next()` in Starlette's thread pool (anyio's, 40 threads by default)
    GET /async       an `async def` generator with `AsyncOpenAI`: no thread at all
    GET /blocking    the synchronous client inside an `async def` generator: every wait for the
                     model blocks the event loop, so every other stream on the worker waits too
    GET /offloaded   the same synchronous client, each `next()` moved to the thread pool with
                     Starlette's `iterate_in_threadpool`: the loop stays free
    GET /pool        the thread pool's size and how many threads are busy right now
    GET /health      an ordinary request, to time while the streams run

The model is the embedded one (offline, in the kernel), reached over real HTTP with the
real `openai` clients; `first`, `delay` and `tokens` set its pace for each request.
"""

from __future__ import annotations

import itertools
import json
import time

import anyio.to_thread
from fastapi import FastAPI
from fastapi.responses import StreamingResponse
from starlette.concurrency import iterate_in_threadpool

from .embedded_model import MODEL_NAME, OFFLINE_API_KEY, embedded_model
from .sse import encode

__all__ = ["create_app", "ROUTES", "biggest_step", "PoolWatch"]

ROUTES = ("sync", "async", "blocking", "offloaded")


def create_app(model_url: str | None = None) -> FastAPI:
    """The four routes above, relaying the model at `model_url` (default: the embedded model)."""
    import openai

    base_url = model_url or embedded_model().base_url
    # One client of each kind for the whole app: they pool their connections to the model.
    sync_client = openai.OpenAI(base_url=base_url, api_key=OFFLINE_API_KEY, max_retries=0)
    async_client = openai.AsyncOpenAI(base_url=base_url, api_key=OFFLINE_API_KEY, max_retries=0)
    app = FastAPI(title="Streaming Lab: concurrency in one worker")
    app.state.busy_peak = 0

    def request(first: float, delay: float, tokens: int) -> dict:
        return {
            "model": MODEL_NAME,
            "stream": True,
            "messages": [{"role": "user", "content": "What is SSE?"}],
            "extra_body": {"lab": {"first_token_delay": first, "token_delay": delay, "tokens": tokens}},
        }

    def frame(chunk) -> str | None:
        text = chunk.choices[0].delta.content if chunk.choices else None
        return encode(json.dumps({"text": text, "t": time.time()}), event="token") if text else None

    def sync_tokens(first: float, delay: float, tokens: int):
        """A plain generator: each step blocks on the model's socket."""
        for chunk in sync_client.chat.completions.create(**request(first, delay, tokens)):
            if (event := frame(chunk)) is not None:
                yield event

    def respond(events) -> StreamingResponse:
        return StreamingResponse(
            events, media_type="text/event-stream", headers={"Cache-Control": "no-cache"}
        )

    @app.get("/sync")
    def sync_route(first: float = 0.3, delay: float = 0.05, tokens: int = 3):
        return respond(sync_tokens(first, delay, tokens))  # a sync iterator: Starlette iterates it in threads

    @app.get("/async")
    async def async_route(first: float = 0.3, delay: float = 0.05, tokens: int = 3):
        async def events():
            async for chunk in await async_client.chat.completions.create(**request(first, delay, tokens)):
                if (event := frame(chunk)) is not None:
                    yield event

        return respond(events())

    @app.get("/blocking")
    async def blocking_route(first: float = 0.3, delay: float = 0.05, tokens: int = 3):
        async def events():
            for event in sync_tokens(first, delay, tokens):  # the mistake: a blocking loop in async code
                yield event

        return respond(events())

    @app.get("/offloaded")
    async def offloaded_route(first: float = 0.3, delay: float = 0.05, tokens: int = 3):
        # the fix when only a sync client exists: each blocking next() runs in the thread pool
        return respond(iterate_in_threadpool(sync_tokens(first, delay, tokens)))

    @app.get("/pool")
    async def pool():
        limiter = anyio.to_thread.current_default_thread_limiter()
        return {"size": limiter.total_tokens, "busy": limiter.borrowed_tokens}

    @app.get("/health")
    async def health():
        return {"ok": True}

    return app


def biggest_step(times: list[float]) -> tuple[int, float]:
    """In first-token times sorted ascending: after how many streams the biggest jump comes, and its size."""
    ordered = sorted(times)
    steps = [b - a for a, b in itertools.pairwise(ordered)]
    index = max(range(len(steps)), key=steps.__getitem__)
    return index + 1, steps[index]


class PoolWatch:
    """Poll `GET /pool` in a background thread while a load runs; keep the most threads seen busy."""

    def __init__(self, url: str, every: float = 0.05) -> None:
        import threading

        self.url, self.every, self.peak = url, every, 0
        self._done = threading.Event()
        self._thread = threading.Thread(target=self._poll, daemon=True)

    def _poll(self) -> None:
        import httpx

        with httpx.Client(timeout=5) as client:
            while not self._done.is_set():
                self.peak = max(self.peak, client.get(self.url + "/pool").json()["busy"])
                self._done.wait(self.every)

    def __enter__(self) -> PoolWatch:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._done.set()
        self._thread.join()
