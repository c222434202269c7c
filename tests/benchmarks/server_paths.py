"""Section 1 of `make bench`: four SSE server paths, with the client in a separate process.

The server runs in a thread of the benchmark process, which does nothing else meanwhile (it
waits for the client); the client, `raw_client.py`, is another process that reads raw bytes.
A client in the server's process would share its interpreter and measure itself: with httpx
in-process, the floor measured the client, not the servers.
"""

from __future__ import annotations

import asyncio
import json
import statistics
import subprocess
import sys
import tracemalloc
from pathlib import Path

import psutil
from fastapi import FastAPI
from fastapi.responses import PlainTextResponse, StreamingResponse
from fastapi.sse import EventSourceResponse, ServerSentEvent
from sse_starlette import EventSourceResponse as StarletteEventSourceResponse

from helpers.kernel_server import serve
from helpers.sse import encode

EVENTS = 20_000
RUNS = 7
FIRST_TOKEN_DELAY = 0.2
TOKEN = "token "
LARGE_PIECES, PIECE = 800, "x" * 65_536  # ≈ 52 MB
CLIENT = Path(__file__).with_name("raw_client.py")


async def produce(count: int, first_delay: float = 0.0):
    if first_delay:
        await asyncio.sleep(first_delay)
    for i in range(count):
        yield TOKEN
        if i % 500 == 0:
            await asyncio.sleep(0)  # a real producer awaits now and then


def sse_apps() -> dict:
    """The same stream of `count` events, four ways."""
    suite = FastAPI()

    @suite.get("/")
    async def suite_path(count: int = EVENTS, first: float = 0.0):
        async def events():
            async for token in produce(count, first):
                yield encode(token, event="token")

        return StreamingResponse(events(), media_type="text/event-stream")

    fastapi_sse = FastAPI()

    @fastapi_sse.get("/", response_class=EventSourceResponse)
    async def fastapi_path(count: int = EVENTS, first: float = 0.0):
        async for token in produce(count, first):
            yield ServerSentEvent(raw_data=token, event="token")

    starlette = FastAPI()

    @starlette.get("/")
    async def starlette_path(count: int = EVENTS, first: float = 0.0):
        async def events():
            async for token in produce(count, first):
                yield {"event": "token", "data": token}

        return StarletteEventSourceResponse(events(), sep="\n")

    async def raw_asgi(scope, receive, send):
        """The floor: pre-framed bytes written straight to the ASGI server."""
        query = dict(part.split("=") for part in scope["query_string"].decode().split("&") if part)
        frame = encode(TOKEN, event="token").encode()
        await send(
            {
                "type": "http.response.start",
                "status": 200,
                "headers": [(b"content-type", b"text/event-stream")],
            }
        )
        async for _ in produce(int(query.get("count", EVENTS)), float(query.get("first", 0))):
            await send({"type": "http.response.body", "body": frame, "more_body": True})
        await send({"type": "http.response.body", "body": b"", "more_body": False})

    return {
        "raw ASGI (floor)": raw_asgi,
        "helpers.sse + StreamingResponse": suite,
        "fastapi.sse": fastapi_sse,
        "sse-starlette": starlette,
    }


def client_runs(urls: list[str], runs: int = RUNS, warmup: int = 1) -> dict[str, list[dict]]:
    """`runs` requests to each URL, interleaved, from raw_client.py in its own process."""
    command = [sys.executable, str(CLIENT), *urls, "--runs", str(runs), "--warmup", str(warmup)]
    done = subprocess.run(command, capture_output=True, text=True, timeout=900)
    if done.returncode != 0:
        raise RuntimeError(f"raw_client failed:\n{done.stderr[-2000:]}")
    return json.loads(done.stdout)


def thread_cpu_seconds(native_id: int) -> float:
    """CPU time one thread of this process has used (user + system)."""
    thread = next(t for t in psutil.Process().threads() if t.id == native_id)
    return thread.user_time + thread.system_time


def measure(apps: dict, runs: int = RUNS) -> dict[str, dict[str, float]]:
    """Per app: events/s of wall time (median of `runs`), events per second of the server thread's
    CPU (over all runs), and the first byte's delay after the first token was ready (median).

    Every app gets its own server, all running at once; the runs take them in turn, so a change
    in the machine's load touches each alike. Wall-clock rates move with whatever else the
    machine runs; CPU time spent by the server's own thread barely does, so the ratios use it.
    """
    servers = {name: serve(app, name=f"bench-{i}") for i, (name, app) in enumerate(apps.items())}
    try:
        rate_urls = {name: f"{server.url}/?count={EVENTS}" for name, server in servers.items()}
        first_urls = {
            name: f"{server.url}/?count=10&first={FIRST_TOKEN_DELAY}" for name, server in servers.items()
        }
        client_runs(list(rate_urls.values()), runs=0)  # warm every path once
        walls, cpus = {name: [] for name in apps}, {name: 0.0 for name in apps}
        for _ in range(runs):
            for name, server in servers.items():
                before = thread_cpu_seconds(server.thread.native_id)
                run = client_runs([rate_urls[name]], runs=1, warmup=0)[rate_urls[name]][0]
                cpus[name] += thread_cpu_seconds(server.thread.native_id) - before
                walls[name].append(EVENTS / run["total"])
        firsts = client_runs(list(first_urls.values()), runs)
    finally:
        for server in servers.values():
            server.stop()
    return {
        # CPU times tick in 10 ms steps: the CPU rate is taken over all runs together
        name: {
            "wall": statistics.median(walls[name]),
            "cpu": EVENTS * runs / cpus[name],
            "first": statistics.median(
                run["first_byte"] - FIRST_TOKEN_DELAY for run in firsts[first_urls[name]]
            ),
        }
        for name in apps
    }


def large_app() -> FastAPI:
    app = FastAPI()

    @app.get("/streamed")
    async def streamed():
        async def pieces():
            for _ in range(LARGE_PIECES):
                yield PIECE

        return StreamingResponse(pieces(), media_type="text/plain")

    @app.get("/buffered")
    async def buffered():
        return PlainTextResponse("".join(PIECE for _ in range(LARGE_PIECES)))

    return app


def server_peak_memory(url: str) -> int:
    """Peak memory the server process allocated (tracemalloc) while another process downloaded `url`."""
    tracemalloc.start()
    try:
        client_runs([url], runs=1)
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def rows() -> list[str]:
    results = measure({**sse_apps(), "StreamingResponse with frames built once": prebuilt_frames_app()})
    floor = results["raw ASGI (floor)"]
    lines = [
        f"| server path | events/s, wall clock (median of {RUNS}) | vs floor | events per CPU-second of the server thread ({RUNS} runs) | vs floor | first byte after the first token is ready |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for name, r in results.items():
        lines.append(
            f"| {name} | {r['wall']:,.0f} | {r['wall'] / floor['wall']:.2f}× | {r['cpu']:,.0f} | {r['cpu'] / floor['cpu']:.2f}× | {r['first'] * 1000:.1f} ms |"
        )
    suite = results["helpers.sse + StreamingResponse"]["cpu"] / floor["cpu"]
    lines += [
        "",
        f"The suite's path serves {suite:.2f}× the floor's events per CPU-second: it {'meets' if suite >= 0.9 else 'misses'} the 0.9× target. "
        f"A served event costs the floor {1e6 / floor['cpu']:.1f} µs of server CPU; the in-process table below shows where the suite's extra goes.",
    ]
    with serve(large_app(), name="bench-large") as server:
        streamed = statistics.median([server_peak_memory(server.url + "/streamed") for _ in range(3)])
        buffered = statistics.median([server_peak_memory(server.url + "/buffered") for _ in range(3)])
    lines += [
        "",
        f"Large response ({LARGE_PIECES * len(PIECE) / 1e6:.0f} MB), peak memory allocated by the server while a client in another process downloads it (tracemalloc, median of 3):",
        "",
        "| response | peak memory |",
        "|---|---:|",
        f"| streamed in 64 KiB pieces | {streamed / 2**20:.1f} MiB |",
        f"| built whole, then sent | {buffered / 2**20:.1f} MiB |",
    ]
    return lines


def prebuilt_frames_app() -> FastAPI:
    """StreamingResponse fed with frames built once: what StreamingResponse costs, without framing."""
    app = FastAPI()
    frame = encode(TOKEN, event="token").encode()

    @app.get("/")
    async def prebuilt(count: int = EVENTS, first: float = 0.0):
        async def events():
            async for _ in produce(count, first):
                yield frame

        return StreamingResponse(events(), media_type="text/event-stream")

    return app


def bare_streaming_response(frame: bytes = encode(TOKEN, event="token").encode()):
    """StreamingResponse as a plain ASGI app, outside any framework: its own cost, without FastAPI's."""

    async def app(scope, receive, send):
        count = int(dict(part.split("=") for part in scope["query_string"].decode().split("&"))["count"])

        async def events():
            async for _ in produce(count):
                yield frame

        await StreamingResponse(events(), media_type="text/event-stream")(scope, receive, send)

    return app


async def _in_process(app, count: int) -> int:
    """Call the ASGI app directly, with a `send` that only counts: no server, no socket."""
    scope = {
        "type": "http",
        "asgi": {"version": "3.0", "spec_version": "2.3"},
        "http_version": "1.1",
        "method": "GET",
        "scheme": "http",
        "path": "/",
        "raw_path": b"/",
        "root_path": "",
        "query_string": f"count={count}".encode(),
        "headers": [(b"host", b"bench")],
        "client": ("127.0.0.1", 1),
        "server": ("127.0.0.1", 2),
    }
    sent = 0
    never = asyncio.Event()

    async def receive():
        await never.wait()  # the client never leaves

    async def send(message) -> None:
        nonlocal sent
        sent += message["type"] == "http.response.body"

    await app(scope, receive, send)
    return sent


def per_event_costs(count: int = 20_000, repeat: int = 25) -> list[str]:
    """Each path's own cost per event: the ASGI app called in-process with a `send` that does nothing.

    Timed with this thread's CPU clock, so time spent descheduled on a busy machine is not
    counted; the apps take turns and each keeps its best run.
    """
    import time

    apps = {
        **sse_apps(),
        "StreamingResponse with frames built once": prebuilt_frames_app(),
        "the same StreamingResponse without FastAPI": bare_streaming_response(),
    }
    for app in apps.values():
        asyncio.run(_in_process(app, 1000))  # warm up
    best = {name: float("inf") for name in apps}
    for _ in range(repeat):
        for name, app in apps.items():
            start = time.thread_time()
            asyncio.run(_in_process(app, count))
            best[name] = min(best[name], (time.thread_time() - start) / count)
    costs = best
    floor = costs["raw ASGI (floor)"]
    lines = [
        f"| path, called in-process | µs of CPU per event (best of {repeat}) | more than the floor |",
        "|---|---:|---:|",
    ]
    for name in (
        "raw ASGI (floor)",
        "the same StreamingResponse without FastAPI",
        "StreamingResponse with frames built once",
        "helpers.sse + StreamingResponse",
        "sse-starlette",
        "fastapi.sse",
    ):
        lines.append(
            f"| {name} | {costs[name] * 1e6:.2f} | {'' if name.startswith('raw') else f'+{(costs[name] - floor) * 1e6:.2f} µs'} |"
        )
    bare = costs["the same StreamingResponse without FastAPI"] - floor
    framework = (
        costs["StreamingResponse with frames built once"]
        - costs["the same StreamingResponse without FastAPI"]
    )
    framing = costs["helpers.sse + StreamingResponse"] - costs["StreamingResponse with frames built once"]
    lines += [
        "",
        f"Of the suite's extra cost per event, StreamingResponse itself (one more generator, a type check and a message per chunk) takes "
        f"{bare * 1e6:.2f} µs, FastAPI's middleware, which wraps every `send`, {framework * 1e6:.2f} µs, and framing the event "
        f"(`helpers.sse.encode`, then str to bytes) {framing * 1e6:.2f} µs. Only the last is the suite's own code: for one line "
        "of data `encode` skips its regular expression, and what is left is building each event's text.",
    ]
    return lines
