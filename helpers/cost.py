"""What streaming costs: one simulated producer served streamed and buffered, measured per request.

The producer is a **simulation** with the embedded model's reply text and a configurable
pace, so that transport costs are measured without a model's own work mixed in.
"""

from __future__ import annotations

import asyncio
import json
import time
import tracemalloc
from dataclasses import dataclass

import httpx
from fastapi import FastAPI, Query
from fastapi.responses import JSONResponse, StreamingResponse

from .embedded_model import reply_for
from .sse import encode

__all__ = ["create_cost_app", "Cost", "measure", "framing_overhead", "FRAMINGS"]

FRAMINGS = {
    "raw text": lambda token: token,
    "SSE data line": lambda token: encode(token),
    "SSE, JSON per token": lambda token: encode(json.dumps({"text": token}), event="token"),
}


def framing_overhead(tokens: list[str]) -> dict[str, int]:
    """Bytes on the wire for the same tokens under each framing (HTTP headers not included)."""
    return {name: sum(len(frame(t).encode()) for t in tokens) for name, frame in FRAMINGS.items()}


class _ServerCpu:
    """ASGI middleware: CPU seconds the server thread spent on the last request, start to end of body."""

    def __init__(self, app) -> None:
        self.app = app
        self.last = 0.0

    async def __call__(self, scope, receive, send) -> None:
        started = time.thread_time()  # the server thread's own CPU clock
        try:
            await self.app(scope, receive, send)
        finally:
            self.last = time.thread_time() - started


def create_cost_app() -> FastAPI:
    app = FastAPI(title="Streaming Lab: what streaming costs")

    async def produce(tokens: int, token_delay: float, first_token_delay: float):
        start = time.monotonic()
        for i, token in enumerate(reply_for("What is SSE?", tokens)):
            await asyncio.sleep(max(0.0, start + first_token_delay + i * token_delay - time.monotonic()))
            yield token

    Pace = dict(tokens=Query(50, ge=1, le=100_000), token_delay=Query(0.02, ge=0, le=1), first_token_delay=Query(0.3, ge=0, le=10))

    @app.get("/streamed")
    async def streamed(tokens: int = Pace["tokens"], token_delay: float = Pace["token_delay"], first_token_delay: float = Pace["first_token_delay"]):
        async def events():
            async for token in produce(tokens, token_delay, first_token_delay):
                yield encode(json.dumps({"text": token}), event="token")
            yield encode("{}", event="done")

        return StreamingResponse(events(), media_type="text/event-stream", headers={"Cache-Control": "no-cache"})

    @app.get("/buffered")
    async def buffered(tokens: int = Pace["tokens"], token_delay: float = Pace["token_delay"], first_token_delay: float = Pace["first_token_delay"]):
        return JSONResponse({"text": "".join([t async for t in produce(tokens, token_delay, first_token_delay)])})

    return _ServerCpu(app)  # serve this: the app wrapped in its CPU meter


@dataclass
class Cost:
    route: str
    tokens: int
    token_delay: float
    ttfb: float
    total: float
    bytes: int
    server_cpu: float
    peak_memory: int


async def measure(server, route: str, *, tokens: int, token_delay: float, first_token_delay: float = 0.3, trace_memory: bool = False) -> Cost:
    """One request: first byte, total, body bytes, server CPU seconds, and (if asked) peak traced memory.

    Tracing memory slows Python down, so timings and CPU come from runs without it.
    """
    params = {"tokens": tokens, "token_delay": token_delay, "first_token_delay": first_token_delay}
    if trace_memory:
        tracemalloc.start()
    try:
        async with httpx.AsyncClient(timeout=120) as client:
            start = time.perf_counter()
            ttfb, size = None, 0
            async with client.stream("GET", f"{server.url}/{route}", params=params) as response:
                async for chunk in response.aiter_raw():
                    ttfb = ttfb or time.perf_counter() - start
                    size += len(chunk)
            total = time.perf_counter() - start
        peak = tracemalloc.get_traced_memory()[1] if trace_memory else 0
    finally:
        if trace_memory:
            tracemalloc.stop()
    await asyncio.sleep(0.01)  # let the server's CPU meter close the request
    return Cost(route, tokens, token_delay, ttfb, total, size, server.server.config.app.last, peak)
