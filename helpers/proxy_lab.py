"""What a reverse proxy does to a stream: an upstream app, a timing client and a plot.

The app (run it with `kernel_server.serve`, put `nginx_proxy.start_proxy` in front):

    GET /tokens?n=20&delay=0.06   `n` token events, one every `delay` seconds, then `done`
        &accel=1                  send `X-Accel-Buffering: no` (nginx then passes each piece on)
        &idle=2                   go silent for `idle` seconds halfway (a model thinking, a tool call)
        &ping=0.5                 while silent, send an SSE comment every `ping` seconds
    GET /                         an empty page, so a browser has an origin to open streams from
    GET /typing.html?n=..&accel=1 a page that types the token stream (window.lab.arrivals)
    GET /ticks                    a long stream of small events, for counting open connections

`event_arrivals(url)` reads a stream as a client would (gzip decoded, events parsed) and
records when each token event arrived and how the stream ended.
"""

from __future__ import annotations

import asyncio
import json
import time
from dataclasses import dataclass, field

import httpx
from fastapi import FastAPI
from fastapi.responses import HTMLResponse, StreamingResponse

from .sse import Decoder, comment, encode
from .static_pages import add_pages

__all__ = ["create_app", "Arrivals", "event_arrivals", "delivery", "plot_arrivals"]


def create_app() -> FastAPI:
    app = FastAPI(title="Streaming Lab: behind a proxy")

    @app.get("/tokens")
    async def tokens(
        n: int = 20, delay: float = 0.06, accel: bool = False, idle: float = 0.0, ping: float = 0.0
    ):
        async def events():
            for i in range(n):
                if i == n // 2 and idle:
                    quiet_until = time.monotonic() + idle
                    while (left := quiet_until - time.monotonic()) > 0:
                        await asyncio.sleep(min(left, ping) if ping else left)
                        if ping and quiet_until - time.monotonic() > 0:
                            yield comment("ping")  # ignored by every SSE client; keeps bytes flowing
                await asyncio.sleep(delay)
                yield encode(json.dumps({"i": i, "text": f"token{i} "}), event="token")
            yield encode(json.dumps({"tokens": n}), event="done")

        headers = {"Cache-Control": "no-cache"}
        if accel:
            headers["X-Accel-Buffering"] = "no"
        return StreamingResponse(events(), media_type="text/event-stream", headers=headers)

    @app.get("/")
    async def page():
        return HTMLResponse(
            "<!doctype html><title>Streaming Lab: connections</title><p>streams open: <b id=n>0</b></p>"
        )

    @app.get("/ticks")
    async def ticks(seconds: float = 30.0):
        async def events():
            end = time.monotonic() + seconds
            while time.monotonic() < end:
                yield encode(str(round(time.monotonic(), 3)), event="tick")
                await asyncio.sleep(0.2)

        return StreamingResponse(
            events(),
            media_type="text/event-stream",
            headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
        )

    add_pages(app, {"/typing.html": "typing.html"})
    return app


@dataclass
class Arrivals:
    label: str
    times: list[float] = field(default_factory=list)  # seconds from the request to each token event
    total: float = 0.0  # seconds until the stream ended, normally or not
    complete: bool = False  # the `done` event arrived
    error: str | None = None  # how the stream broke, if it did
    wire_bytes: int = 0  # bytes as sent (compressed, if the proxy compressed)
    encoding: str | None = None  # Content-Encoding of the response

    @property
    def first(self) -> float | None:
        return self.times[0] if self.times else None


async def event_arrivals(url: str, label: str = "", *, timeout: float = 30.0) -> Arrivals:
    """GET `url` and time every `token` event as the client parses it."""
    result, decoder = Arrivals(label or url), Decoder()
    start = time.perf_counter()
    try:
        async with httpx.AsyncClient(timeout=timeout) as client:
            async with client.stream("GET", url, headers={"Accept": "text/event-stream"}) as response:
                result.encoding = response.headers.get("content-encoding")
                async for piece in response.aiter_bytes():
                    result.wire_bytes = response.num_bytes_downloaded
                    now = time.perf_counter() - start
                    for event in decoder.feed(piece):
                        if event.type == "token":
                            result.times.append(now)
                        elif event.type == "done":
                            result.complete = True
    except httpx.HTTPError as exc:
        result.error = f"{type(exc).__name__}: {exc}"
    result.total = time.perf_counter() - start
    return result


def delivery(arrivals: Arrivals, gap: float = 0.025) -> str:
    """How the events came: "live", "in N bursts" or "in one burst at the end".

    Events less than `gap` apart count as one delivery. "live" means at least half of
    them came on their own, which survives a busy machine merging a few.
    """
    if not arrivals.times:
        return "no events"
    deliveries = 1 + sum(1 for a, b in zip(arrivals.times, arrivals.times[1:]) if b - a > gap)
    if deliveries == 1:
        return "in one burst at the end"
    if deliveries >= len(arrivals.times) / 2:
        return "live"
    return f"in {deliveries} bursts"


def plot_arrivals(rows: list[Arrivals], title: str = "When each token event reached the client"):
    """One row per stream: a tick per event, a cross where a stream broke."""
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(9, 0.9 + 0.55 * len(rows)))
    for y, row in enumerate(rows):
        ax.plot(row.times, [y] * len(row.times), "|", markersize=14, color="tab:blue")
        ax.hlines(y, 0, row.total, color="tab:gray", alpha=0.25, linewidth=6)
        if row.error:
            ax.plot([row.total], [y], "x", color="tab:red", markersize=10)
    ax.set_yticks(range(len(rows)), [row.label for row in rows])
    ax.invert_yaxis()
    ax.set_xlabel("seconds since the request was sent")
    ax.set_title(title)
    ax.grid(axis="x", alpha=0.3)
    fig.tight_layout()
    return fig
