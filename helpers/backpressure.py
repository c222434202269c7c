"""Slow readers: what a server holds for a client that stops reading, in three designs.

    GET /flow        the generator yields only when the previous event was handed to the
                     socket: uvicorn's `send` waits while the client does not read (flow
                     control), so the generator waits too and nothing piles up
    GET /unbounded   a producer that does not wait (a broadcast, a model that will not pause)
                     pushes into an unbounded asyncio.Queue per client; the response drains it
                     only as fast as the client reads, so the queue grows without limit
    GET /bounded     the same producer and a queue of at most `limit` events; a reader that
                     falls that far behind is disconnected (it may reconnect and resume)
    GET /stats       per design: events produced, events and bytes held in the app, readers cut

`size` sets the bytes per event and `rate` the producer's events per second. Run the app
in its own process (`worker_process.start_worker("helpers.backpressure:create_app", ...)`)
so its memory (RSS) is its own. `slow_reader(url)` is a client that reads the response
head and then nothing more.
"""

from __future__ import annotations

import asyncio
import socket
import time
from contextlib import contextmanager
from urllib.parse import urlsplit

import anyio
from fastapi import FastAPI
from fastapi.responses import Response, StreamingResponse

from .sse import encode

__all__ = ["create_app", "slow_reader", "watch_slow_reader", "DESIGNS"]

DESIGNS = ("flow", "unbounded", "bounded")


class TooSlow(Exception):
    """The reader fell `limit` events behind: the bounded design disconnects it."""


TICK = 0.01  # both producers work in 10 ms steps


def _per_tick(rate: float) -> int:
    return max(1, round(rate * TICK))


def _event(i: int, size: int) -> str:
    return encode(f"{i:08d} " + "x" * max(0, size - 9), event="token")


async def _produce(
    queue: asyncio.Queue, counters: dict, size: int, rate: float, too_slow: asyncio.Event
) -> None:
    """Put `rate` events a second into the queue, without ever waiting for the reader."""
    i = 0
    while True:
        for _ in range(_per_tick(rate)):
            item = _event(i, size)
            try:
                queue.put_nowait(item)
            except asyncio.QueueFull:
                too_slow.set()  # the reader is `maxsize` events behind: give up on it
                return
            counters["produced"] += 1
            counters["held_events"] += 1
            counters["held_bytes"] += len(item)
            i += 1
        await asyncio.sleep(TICK)


class QueuedStream(Response):
    """A response fed by a producer that never waits, through a queue of at most `limit` events.

    A plain ASGI response rather than a generator: it must race each send against two
    endings, "the reader is too slow" and "the reader left", and cancel the send that waits.
    """

    media_type = "text/event-stream"

    def __init__(self, counters: dict, size: int, rate: float, limit: int) -> None:
        # Not Response.__init__: it would declare `content-length: 0` for the empty body.
        self.status_code, self.background = 200, None
        self.raw_headers = [
            (b"content-type", b"text/event-stream; charset=utf-8"),
            (b"cache-control", b"no-cache"),
        ]
        self.counters, self.size, self.rate, self.limit = counters, size, rate, limit

    async def __call__(self, scope, receive, send) -> None:
        counters = self.counters
        queue: asyncio.Queue = asyncio.Queue(maxsize=self.limit)
        too_slow = asyncio.Event()
        producer = asyncio.create_task(_produce(queue, counters, self.size, self.rate, too_slow))
        await send({"type": "http.response.start", "status": 200, "headers": self.raw_headers})
        try:
            async with anyio.create_task_group() as group:

                async def pump() -> None:
                    while True:
                        item = await queue.get()
                        counters["held_events"] -= 1
                        counters["held_bytes"] -= len(item)
                        await send({"type": "http.response.body", "body": item.encode(), "more_body": True})

                async def stop_when(wait) -> None:
                    await wait()
                    group.cancel_scope.cancel()  # also ends a send that is waiting for the reader

                async def client_left() -> None:
                    while (await receive())["type"] != "http.disconnect":
                        pass

                group.start_soon(pump)
                group.start_soon(stop_when, too_slow.wait)
                group.start_soon(stop_when, client_left)
        finally:
            producer.cancel()
            while not queue.empty():  # what is dropped with the reader is no longer held
                counters["held_bytes"] -= len(queue.get_nowait())
                counters["held_events"] -= 1
        if too_slow.is_set():
            counters["disconnected"] += 1
            # Ending without finishing the response makes uvicorn close the connection.
            raise TooSlow(f"reader more than {self.limit} events behind: disconnected")


def create_app() -> FastAPI:
    app = FastAPI(title="Streaming Lab: slow readers")
    stats = {
        design: {"produced": 0, "held_events": 0, "held_bytes": 0, "disconnected": 0} for design in DESIGNS
    }
    app.state.stats = stats

    @app.get("/flow")
    async def flow(size: int = 1024, rate: float = 4000):
        counters = stats["flow"]

        async def events():
            # The same pace as the producer below; but each `yield` returns only once
            # StreamingResponse's `send` has taken the event, and `send` waits while the
            # socket is full: a reader that stops reading stops this generator.
            i = 0
            while True:
                for _ in range(_per_tick(rate)):
                    yield _event(i, size)
                    counters["produced"] += 1
                    i += 1
                await asyncio.sleep(TICK)

        return StreamingResponse(events(), media_type="text/event-stream")

    @app.get("/unbounded")
    async def unbounded(size: int = 1024, rate: float = 4000):
        return QueuedStream(stats["unbounded"], size, rate, limit=0)  # a queue of maxsize 0 has no limit

    @app.get("/bounded")
    async def bounded(size: int = 1024, rate: float = 4000, limit: int = 256):
        return QueuedStream(stats["bounded"], size, rate, limit=limit)

    @app.get("/stats")
    async def get_stats():
        return stats

    return app


@contextmanager
def slow_reader(url: str, receive_buffer: int = 4096):
    """Open `url`, read the response head, then read nothing more until the block ends.

    A small receive buffer makes the client's side of the connection fill up quickly,
    as it would for a phone on a bad network or a browser tab that is frozen.
    """
    parts = urlsplit(url)
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, receive_buffer)  # before connect, or it is ignored
    try:
        sock.connect((parts.hostname, parts.port))
        target = parts.path + (f"?{parts.query}" if parts.query else "")
        sock.sendall(
            f"GET {target} HTTP/1.0\r\nHost: {parts.netloc}\r\nAccept: text/event-stream\r\n\r\n".encode()
        )
        head = sock.recv(256)
        if not head.startswith(b"HTTP/1.1 200"):
            raise ConnectionError(f"expected a 200 response, got {head[:40]!r}")
        yield sock
    finally:
        sock.close()


def watch_slow_reader(
    worker, design: str, *, seconds: float = 3.0, every: float = 0.25, **params
) -> list[dict]:
    """Hold a slow reader on `design` for `seconds`; sample the app's counters and the worker's RSS.

    Each sample: {"t": seconds, "produced", "held_bytes", "disconnected", "rss_growth": bytes since the start}.
    """
    import httpx

    query = "&".join(f"{k}={v}" for k, v in params.items())
    samples = []
    with httpx.Client(timeout=5) as client:
        before = client.get(worker.url + "/stats").json()[design]
        base_rss = worker.rss()
        start = time.monotonic()
        with slow_reader(f"{worker.url}/{design}?{query}"):
            while time.monotonic() - start < seconds:
                time.sleep(every)
                now = client.get(worker.url + "/stats").json()[design]
                samples.append(
                    {
                        "t": round(time.monotonic() - start, 2),
                        "produced": now["produced"] - before["produced"],
                        "held_bytes": now["held_bytes"],
                        "disconnected": now["disconnected"] - before["disconnected"],
                        "rss_growth": worker.rss() - base_rss,
                    }
                )
    return samples
