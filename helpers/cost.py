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

__all__ = [
    "create_cost_app",
    "CpuMeter",
    "FIRST_TOKEN_DELAY",
    "Cost",
    "measure_route",
    "framing_overhead",
    "FRAMINGS",
    "reparse_every_chunk",
    "parse_incrementally",
    "json_document",
    "fitted_exponent",
    "JsonGrowth",
    "partial_json_growth",
    "ChunkStats",
    "model_endpoint",
    "model_chunks",
]

FRAMINGS = {
    "raw text": lambda token: token,
    "SSE data line": lambda token: encode(token),
    "SSE, JSON per token": lambda token: encode(json.dumps({"text": token}), event="token"),
}


def framing_overhead(tokens: list[str]) -> dict[str, int]:
    """Bytes on the wire for the same tokens under each framing (HTTP headers not included)."""
    return {name: sum(len(frame(t).encode()) for t in tokens) for name, frame in FRAMINGS.items()}


class CpuMeter:
    """ASGI middleware: `cpu_seconds`, what the server thread spent on the last request, start to end of body."""

    def __init__(self, app) -> None:
        self.app = app
        self.cpu_seconds = 0.0

    async def __call__(self, scope, receive, send) -> None:
        started = time.thread_time()  # the server thread's own CPU clock
        try:
            await self.app(scope, receive, send)
        finally:
            self.cpu_seconds = time.thread_time() - started


# Seconds before the simulated producer's first token, unless a request says otherwise.
FIRST_TOKEN_DELAY = 0.3


def create_cost_app() -> CpuMeter:
    """`/streamed` and `/buffered`, one producer paced the same, inside the CPU meter: serve what it returns."""
    app = FastAPI(title="Streaming Lab: what streaming costs")

    async def produce(tokens: int, token_delay: float, first_token_delay: float):
        start = time.monotonic()
        for i, token in enumerate(reply_for("What is SSE?", tokens)):
            await asyncio.sleep(max(0.0, start + first_token_delay + i * token_delay - time.monotonic()))
            yield token

    Pace = dict(
        tokens=Query(50, ge=1, le=100_000),
        token_delay=Query(0.02, ge=0, le=1),
        first_token_delay=Query(FIRST_TOKEN_DELAY, ge=0, le=10),
    )

    @app.get("/streamed")
    async def streamed(
        tokens: int = Pace["tokens"],
        token_delay: float = Pace["token_delay"],
        first_token_delay: float = Pace["first_token_delay"],
    ):
        async def events():
            async for token in produce(tokens, token_delay, first_token_delay):
                yield encode(json.dumps({"text": token}), event="token")
            yield encode("{}", event="done")

        return StreamingResponse(
            events(), media_type="text/event-stream", headers={"Cache-Control": "no-cache"}
        )

    @app.get("/buffered")
    async def buffered(
        tokens: int = Pace["tokens"],
        token_delay: float = Pace["token_delay"],
        first_token_delay: float = Pace["first_token_delay"],
    ):
        return JSONResponse(
            {"text": "".join([t async for t in produce(tokens, token_delay, first_token_delay)])}
        )

    return CpuMeter(app)


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


async def measure_route(
    server,
    route: str,
    *,
    tokens: int,
    token_delay: float,
    first_token_delay: float = FIRST_TOKEN_DELAY,
    trace_memory: bool = False,
) -> Cost:
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
    return Cost(route, tokens, token_delay, ttfb, total, size, server.app.cpu_seconds, peak)


# --- Structured output: re-parsing partial JSON at every chunk, against an incremental parser ---


def reparse_every_chunk(chunks: list[str]):
    """What a streaming JSON display does by default: parse the whole text so far, at every chunk."""
    from langchain_core.utils.json import parse_partial_json

    seen, partial = "", None
    for chunk in chunks:
        seen += chunk
        partial = parse_partial_json(seen)
    return partial


def parse_incrementally(chunks: list[str]):
    """Each chunk read once: ijson's pure-Python push parser feeds an object that fills in as events arrive."""
    import ijson

    events = ijson.sendable_list()
    parser = ijson.get_backend("python").parse_coro(events)  # pure Python, like parse_partial_json
    builder = ijson.ObjectBuilder()
    for chunk in chunks:
        parser.send(chunk.encode())
        for _, event, value in events:
            builder.event(event, value)
        del events[:]
    try:
        parser.close()
    # the stream stopped early (mid-string ijson raises ValueError): keep what arrived
    except (
        ijson.JSONError,
        ValueError,
    ):
        return builder.value
    for _, event, value in events:
        builder.event(event, value)
    return builder.value


def json_document(items: int) -> str:
    return json.dumps({"items": [{"id": i, "name": f"item {i}", "tags": ["a", "b"]} for i in range(items)]})


def fitted_exponent(sizes: list[float], times: list[float]) -> float:
    """k in time ∝ sizeᵏ: the slope of log(time) against log(size), by least squares."""
    import math
    import statistics

    return statistics.linear_regression([math.log(s) for s in sizes], [math.log(t) for t in times]).slope


def _best(seconds_of_one_run, repeat: int) -> float:
    return min(seconds_of_one_run() for _ in range(repeat))


def reparse_cost(text: str, size: int, repeat: int = 15) -> float:
    """Seconds `parse_partial_json` spends on the chunk that brings the text to `size` characters."""
    from langchain_core.utils.json import parse_partial_json

    prefix = text[:size]

    def one() -> float:
        start = time.perf_counter()
        parse_partial_json(prefix)
        return time.perf_counter() - start

    return _best(one, repeat)


def incremental_cost(text: str, size: int, chunk_size: int = 4, probe: int = 64, repeat: int = 5) -> float:
    """Seconds per chunk for the incremental parser, for `probe` chunks read after the first `size` characters."""
    import ijson

    def one() -> float:
        events = ijson.sendable_list()
        parser = ijson.get_backend("python").parse_coro(events)
        builder = ijson.ObjectBuilder()
        parser.send(text[:size].encode())
        for _, event, value in events:
            builder.event(event, value)
        del events[:]
        start = time.perf_counter()
        for i in range(size, size + probe * chunk_size, chunk_size):
            parser.send(text[i : i + chunk_size].encode())
            for _, event, value in events:
                builder.event(event, value)
            del events[:]
        seconds = (time.perf_counter() - start) / probe
        try:
            parser.close()  # the document is unfinished on purpose: ijson says so on close
        except (ijson.JSONError, ValueError):
            pass
        return seconds

    return _best(one, repeat)


@dataclass
class JsonGrowth:
    """The cost of one chunk at each document size, for both parsers (seconds)."""

    sizes: list[int]
    reparse: list[float]
    incremental: list[float]

    @property
    def reparse_exponent(self) -> float:
        return fitted_exponent(self.sizes, self.reparse)

    @property
    def incremental_exponent(self) -> float:
        return fitted_exponent(self.sizes, self.incremental)

    def whole_stream(self, parser: str, size: int, chunk_size: int = 4) -> float:
        """Seconds for a whole stream of `size` characters: the sum of the per-chunk costs, from the fit."""
        sizes, costs = self.sizes, getattr(self, parser)
        k = fitted_exponent(sizes, costs)
        scale = costs[-1] / sizes[-1] ** k
        return sum(scale * n**k for n in range(chunk_size, size + 1, chunk_size))


def partial_json_growth(sizes=(1_000, 2_000, 4_000, 8_000, 16_000)) -> JsonGrowth:
    """Per-chunk cost against document size, both parsers pure Python, on one long JSON document."""
    text = json_document(400)  # about 20 kB
    small = json_document(30)
    chunks = [small[i : i + 4] for i in range(0, len(small), 4)]
    if not reparse_every_chunk(chunks) == parse_incrementally(chunks) == json.loads(small):
        raise AssertionError("a parser did not end with the whole document")
    return JsonGrowth(
        list(sizes), [reparse_cost(text, n) for n in sizes], [incremental_cost(text, n) for n in sizes]
    )


# --- The model API's own chunks: bytes on the wire, and how many tokens each chunk carries ---


@dataclass
class ChunkStats:
    source: str  # which API answered
    wire_bytes: int  # the whole response body
    text_bytes: int  # the UTF-8 bytes of the reply text
    chunks: list[str]  # the text of each chunk that carried text
    completion_tokens: int  # from the final usage chunk

    @property
    def tokens_per_chunk(self) -> float:
        return self.completion_tokens / len(self.chunks)


def model_endpoint(real: bool) -> tuple[str, str, str, str]:
    """(label, base URL, API key, model) of the real OpenAI API or of the embedded model."""
    import os

    from .embedded_model import MODEL_NAME, OFFLINE_API_KEY, embedded_model

    if real:
        model = os.environ.get("OPENAI_MODEL", "gpt-4o-mini")
        return f"OpenAI API ({model})", "https://api.openai.com/v1", os.environ["OPENAI_API_KEY"], model
    return (
        "embedded model (a simulation of the format)",
        embedded_model().base_url,
        OFFLINE_API_KEY,
        MODEL_NAME,
    )


async def model_chunks(prompt: str, *, real: bool = False) -> ChunkStats:
    """One streamed chat completion, read raw: every byte counted, every event decoded by the course's decoder."""
    from .sse import Decoder

    label, base_url, key, model = model_endpoint(real)
    body = {
        "model": model,
        "stream": True,
        "stream_options": {"include_usage": True},
        "messages": [{"role": "user", "content": prompt}],
    }
    decoder, events, wire = Decoder(), [], 0
    async with httpx.AsyncClient(timeout=httpx.Timeout(60.0)) as client:
        async with client.stream(
            "POST", f"{base_url}/chat/completions", json=body, headers={"Authorization": f"Bearer {key}"}
        ) as response:
            response.raise_for_status()
            async for raw in response.aiter_raw():
                wire += len(raw)
                events += decoder.feed(raw)
    chunks, usage = [], None
    for event in events + decoder.close():
        if event.data == "[DONE]":
            continue
        payload = json.loads(event.data)
        usage = payload.get("usage") or usage
        for choice in payload.get("choices", []):
            if choice["delta"].get("content"):
                chunks.append(choice["delta"]["content"])
    return ChunkStats(label, wire, len("".join(chunks).encode()), chunks, usage["completion_tokens"])
