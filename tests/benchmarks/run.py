"""`make bench`: what streaming costs here, measured, written to tests/benchmarks/RESULTS.md.

Sections:
  1. four SSE server paths on loopback: events/s, time to first byte over the producer's
     first-token delay, and peak memory of a large response streamed against buffered;
  2. end to end: first token visible in JupyterLab's widget after Run, measured in Chromium;
  3. the whole suite: `make unit`, `make notebook-tests` and `make test`, wall time;
and how fast a cancelled client stops the model, against the 100 ms target (cancellation.py).
Medians of several runs; ratios are against the raw ASGI floor.
"""

from __future__ import annotations

import asyncio
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

import httpx
from fastapi import FastAPI
from fastapi.responses import PlainTextResponse, StreamingResponse
from fastapi.sse import EventSourceResponse, ServerSentEvent
from sse_starlette import EventSourceResponse as StarletteEventSourceResponse

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from cancellation import cancellation_section  # noqa: E402  (tests/benchmarks/cancellation.py)
from helpers.kernel_server import serve  # noqa: E402
from helpers.sse import encode  # noqa: E402

EVENTS = 20_000
RUNS = 5
FIRST_TOKEN_DELAY = 0.2
TOKEN = "token "
LARGE_PIECES, PIECE = 800, "x" * 65_536  # ≈ 52 MB


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
        await send({"type": "http.response.start", "status": 200, "headers": [(b"content-type", b"text/event-stream")]})
        async for _ in produce(int(query.get("count", EVENTS)), float(query.get("first", 0))):
            await send({"type": "http.response.body", "body": frame, "more_body": True})
        await send({"type": "http.response.body", "body": b"", "more_body": False})

    return {"raw ASGI (floor)": raw_asgi, "helpers.sse + StreamingResponse": suite, "fastapi.sse": fastapi_sse, "sse-starlette": starlette}


async def one_run(url: str, count: int, first: float) -> tuple[float, float]:
    async with httpx.AsyncClient(timeout=120) as client:
        start = time.perf_counter()
        ttfb = None
        async with client.stream("GET", url, params={"count": count, "first": first}) as response:
            async for _ in response.aiter_raw():
                ttfb = ttfb or time.perf_counter() - start
        return ttfb, time.perf_counter() - start


async def peak_memory(url: str) -> int:
    tracemalloc.start()
    try:
        async with httpx.AsyncClient(timeout=120) as client:
            async with client.stream("GET", url) as response:
                async for _ in response.aiter_raw():
                    pass
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


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


async def server_paths() -> list[str]:
    rows = []
    results = {}
    for name, app in sse_apps().items():
        server = serve(app, name="bench")
        await one_run(server.url, 100, 0)  # warm up
        rates = [EVENTS / (await one_run(server.url, EVENTS, 0))[1] for _ in range(RUNS)]
        extra = [(await one_run(server.url, 10, FIRST_TOKEN_DELAY))[0] - FIRST_TOKEN_DELAY for _ in range(RUNS)]
        server.stop()
        results[name] = (statistics.median(rates), statistics.median(extra))
    floor = results["raw ASGI (floor)"][0]
    rows.append("| server path | events/s (median of %d) | vs floor | first byte after the first token is ready |" % RUNS)
    rows.append("|---|---:|---:|---:|")
    for name, (rate, extra) in results.items():
        rows.append(f"| {name} | {rate:,.0f} | {rate / floor:.2f}× | {extra * 1000:.1f} ms |")
    server = serve(large_app(), name="bench-large")
    streamed = statistics.median([await peak_memory(server.url + "/streamed") for _ in range(3)])
    buffered = statistics.median([await peak_memory(server.url + "/buffered") for _ in range(3)])
    server.stop()
    rows += ["", f"Large response ({LARGE_PIECES * len(PIECE) / 1e6:.0f} MB), peak traced memory of server and client (median of 3):", "",
             "| response | peak memory |", "|---|---:|",
             f"| streamed in 64 KiB pieces | {streamed / 2**20:.1f} MiB |", f"| built whole, then sent | {buffered / 2**20:.1f} MiB |"]
    return rows


def first_token_in_jupyterlab() -> list[str]:
    """Re-run notebook 01's widget cell in JupyterLab and time the first token on screen."""
    from playwright.sync_api import sync_playwright

    sys.path.insert(0, str(ROOT / "tests"))
    from browser.conftest import ARGS, CHROMIUM
    from browser.lab_server import jupyterlab
    from browser.test_jupyterlab import run_all, wait_until_done

    samples = []
    with tempfile.TemporaryDirectory() as tmp, jupyterlab(Path(tmp)) as url, sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=ARGS)
        page = browser.new_page()
        page.set_default_timeout(60_000)
        run_all(page, url, "01_generators.ipynb")
        wait_until_done(page)
        cell = page.locator(".jp-CodeCell", has=page.locator(".lab-token-view")).first
        for _ in range(RUNS):
            cell.locator(".jp-InputArea-editor").click()
            started = page.evaluate("performance.now()")
            page.keyboard.press("Control+Enter")
            # the old widget goes (outputs are cleared on Run), the new one starts empty, then types
            page.wait_for_function("() => { const el = document.querySelector('.lab-token-text'); return !el || el.textContent.length === 0; }", polling=5)
            page.wait_for_function("() => { const el = document.querySelector('.lab-token-text'); return el && el.textContent.length > 0; }", polling=5)
            samples.append(page.evaluate("performance.now()") - started)
            page.wait_for_function("document.querySelector('.lab-token-view').textContent.includes('12 tokens')")
            page.wait_for_timeout(500)
        browser.close()
    return ["| measurement | median of %d |" % RUNS, "|---|---:|",
            f"| first token visible in the widget after Run (the simulated model's first token is due at 80 ms) | {statistics.median(samples):.0f} ms |"]


def suite_times() -> list[str]:
    """Wall time of the test targets, each run as a developer runs it (`make test` includes the other two)."""
    def timed(target):
        start = time.perf_counter()
        done = subprocess.run(["make", target], cwd=ROOT, capture_output=True, text=True)
        if done.returncode != 0:
            sys.exit(f"make {target} failed; its output ends with:\n{(done.stdout + done.stderr)[-4000:]}")
        return time.perf_counter() - start

    workers = os.environ.get("NOTEBOOK_WORKERS", "4")
    runs = [("make unit", "unit tests only"),
            ("make notebook-tests", f"every notebook twice in one kernel, outputs compared as nbval compares them; {workers} at a time"),
            ("make test", "everything: unit, notebooks, browser")]
    # the machine is shared: the load before each run says whether a slow figure is ours
    rows = ["| run | what | wall time | load average before |", "|---|---|---:|---:|"]
    for command, what in runs:
        load = os.getloadavg()[0]
        rows.append(f"| `{command}` | {what} | {timed(command.split()[1]):.0f} s | {load:.1f} |")
    return rows


def machine() -> str:
    cpu = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines() if line.startswith("model name")), platform.processor())
    return f"{cpu}, {os.cpu_count()} cores, {platform.system()} {platform.release()}, Python {platform.python_version()}"


def main() -> None:
    sections = [
        "# Benchmark results", "",
        f"Generated by `make bench` on {time.strftime('%Y-%m-%d')}. Machine: {machine()}.", "",
        "## 1. Server paths on loopback", "",
        f"{EVENTS:,} small `token` events per response, client and server on 127.0.0.1 (the server in a thread of the benchmark process).", "",
        *asyncio.run(server_paths()), "",
        "## 2. End to end in JupyterLab", "",
        *first_token_in_jupyterlab(), "",
        "## 3. The whole suite", "",
        *suite_times(), "",
        *cancellation_section(), "",
    ]
    out = ROOT / "tests" / "benchmarks" / "RESULTS.md"
    out.write_text("\n".join(sections))
    summarise_in_readme(sections)
    print(out.read_text())


def summarise_in_readme(sections: list[str]) -> None:
    """Replace what follows the README's bench marker with these results, headings demoted."""
    readme = ROOT / "README.md"
    marker = "<!-- bench-summary -->"
    head = readme.read_text().split(marker)[0]
    body = [line.replace("## ", "#### ", 1) if line.startswith("## ") else line for line in sections[2:]]
    readme.write_text(head + marker + "\n" + "\n".join(body))


if __name__ == "__main__":
    main()
