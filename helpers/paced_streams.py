"""How many streams one worker holds: a paced token stream, and a measurement around it.

`create_app()` serves `GET /stream?tokens=20&interval=0.1`: an SSE stream of `token` events,
one every `interval` seconds, each carrying the server's `time.time()` as `"t"` so the
reader can compute the event's latency. It uses the course's own path
(`helpers.sse.encode` + `StreamingResponse`). Run it with `worker_process.start_worker`.

`measure_streams(worker, n)` opens n readers from a separate process (`load_client`)
and samples the worker's memory and CPU meanwhile.
"""

from __future__ import annotations

import asyncio
import json
import random
import threading
import time
from dataclasses import dataclass

from fastapi import FastAPI
from fastapi.responses import StreamingResponse

from .load_client import LoadReport, run_load
from .sse import encode
from .worker_process import Worker

__all__ = ["create_app", "StreamsMeasurement", "measure_streams"]


def create_app() -> FastAPI:
    app = FastAPI(title="Streaming Lab: paced streams")

    @app.get("/stream")
    async def stream(tokens: int = 20, interval: float = 0.1, size: int = 8):
        async def events():
            # Readers connect together; a random phase spreads their ticks as real traffic would be.
            await asyncio.sleep(random.uniform(0, interval))
            for i in range(tokens):
                yield encode(json.dumps({"i": i, "t": time.time(), "text": "x" * size}), event="token")
                await asyncio.sleep(interval)
            yield encode(json.dumps({"tokens": tokens}), event="done")

        return StreamingResponse(
            events(), media_type="text/event-stream", headers={"Cache-Control": "no-cache"}
        )

    @app.get("/health")
    async def health():
        return {"ok": True}

    return app


@dataclass
class StreamsMeasurement:
    streams: int
    report: LoadReport
    rss_before: int  # bytes, the idle worker
    rss_peak: int  # bytes, the most while the streams were open
    cpu_percent: float  # of one core, over the run
    open_files_peak: int

    @property
    def rss_per_stream(self) -> float:
        return (self.rss_peak - self.rss_before) / self.streams

    def row(self) -> dict:
        return {
            "streams": self.streams,
            "ok": self.report.ok,
            "p50_ms": round(self.report.latency_ms(50), 2),
            "p99_ms": round(self.report.latency_ms(99), 2),
            "rss_per_stream_kib": round(self.rss_per_stream / 1024, 1),
            "cpu_percent": round(self.cpu_percent, 1),
        }


def measure_streams(
    worker: Worker,
    streams: int,
    *,
    tokens: int = 20,
    interval: float = 0.1,
    timeout: float = 60.0,
    stagger: float = 0.0,
) -> StreamsMeasurement:
    """Open `streams` concurrent readers of the worker's paced stream; sample its RSS and CPU meanwhile."""
    import httpx

    # warm: the first request imports and builds what every later one reuses
    httpx.get(worker.url + "/health")
    rss_before, cpu_before = worker.rss(), worker.cpu_seconds()
    peak = {"rss": rss_before, "fds": worker.open_files()}
    done = threading.Event()

    def sample() -> None:
        while not done.is_set():
            try:
                peak["rss"] = max(peak["rss"], worker.rss())
                peak["fds"] = max(peak["fds"], worker.open_files())
            except Exception:  # the worker stopped: keep what was seen
                return
            done.wait(0.05)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    start = time.perf_counter()
    try:
        report = run_load(
            f"{worker.url}/stream?tokens={tokens}&interval={interval}",
            streams=streams,
            timeout=timeout,
            stagger=stagger,
        )
    finally:
        done.set()
        sampler.join()
    wall = time.perf_counter() - start
    cpu = (worker.cpu_seconds() - cpu_before) / wall * 100
    return StreamsMeasurement(streams, report, rss_before, peak["rss"], cpu, peak["fds"])
