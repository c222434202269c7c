"""Many concurrent SSE readers, in a process of their own: the load side of a measurement.

A client in the same process as the server shares its interpreter and its GIL, so it
measures itself as much as the server. `run_load` starts `python -m helpers.load_client`,
which opens the streams with plain asyncio sockets (lighter than an HTTP library, so a
thousand readers fit in one process), and returns what each stream saw:

    report = run_load(url + "/stream?tokens=20", streams=100)
    report.ok, report.statuses, report.errors, report.first_event_s, report.latency_ms(99)

Each reader sends `GET <path> HTTP/1.0` with `Accept: text/event-stream`, so the body needs
no chunk decoding: it ends when the server closes. Events are decoded with `helpers.sse`.
An event whose data is JSON with a `"t"` field (the server's `time.time()` when it sent
it) gives a latency: the same clock, since client and server run on one machine.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import resource
import subprocess
import sys
import time
from collections import Counter
from dataclasses import dataclass
from urllib.parse import urlsplit

__all__ = ["LoadReport", "StreamResult", "run_load", "percentile"]


@dataclass
class StreamResult:
    status: int | None = None  # the HTTP status, None if no response came
    error: str | None = None  # why the stream did not end normally
    first_byte: float | None = None  # seconds from this stream's start to the first body byte
    first_event: float | None = None  # ... to the first complete event
    events: int = 0
    latencies_ms: list[float] | None = None  # per event with a "t" field: receipt time minus send time
    ended: float | None = None  # seconds until the body ended (or the stream failed)
    opened: float | None = None  # seconds from the load's start to this stream's start


def percentile(values: list[float], q: float) -> float:
    """The q-th percentile (0-100) by the nearest-rank method; nan for no values."""
    if not values:
        return math.nan
    ordered = sorted(values)
    return ordered[max(0, math.ceil(q / 100 * len(ordered)) - 1)]


@dataclass
class LoadReport:
    streams: list[StreamResult]
    wall_s: float  # from the first connection attempt to the last stream's end

    @property
    def ok(self) -> int:
        """Streams that got a 200 and ended normally."""
        return sum(1 for s in self.streams if s.status == 200 and s.error is None)

    @property
    def statuses(self) -> Counter:
        return Counter(s.status for s in self.streams)

    @property
    def errors(self) -> Counter:
        return Counter(s.error for s in self.streams if s.error)

    @property
    def first_event_s(self) -> list[float | None]:
        """Time to the first event of each stream, from its own start, in the order they were opened."""
        return [s.first_event for s in self.streams]

    @property
    def first_event_since_load_start_s(self) -> list[float | None]:
        """Time to the first event of each stream, from the load's start: one clock for every reader.

        On a busy machine the readers start over a spread of time. A reader that started late and
        then waited in the server's queue looks, on its own clock, as if it had hardly waited.
        """
        return [
            None if s.first_event is None or s.opened is None else s.opened + s.first_event
            for s in self.streams
        ]

    def latencies(self) -> list[float]:
        return [ms for s in self.streams for ms in (s.latencies_ms or [])]

    def latency_ms(self, q: float) -> float:
        return percentile(self.latencies(), q)


async def _read_stream(
    host: str, port: int, target: str, headers: dict[str, str], deadline: float
) -> StreamResult:
    # imported here: the module is also loaded by the notebook, where it is not needed
    from .sse import Decoder

    result, start = StreamResult(latencies_ms=[]), time.perf_counter()
    writer = None
    try:
        async with asyncio.timeout(max(0.0, deadline - time.monotonic())):
            reader, writer = await asyncio.open_connection(host, port)
            head = "".join(
                f"{k}: {v}\r\n"
                for k, v in {"Host": f"{host}:{port}", "Accept": "text/event-stream", **headers}.items()
            )
            writer.write(f"GET {target} HTTP/1.0\r\n{head}\r\n".encode())
            status_line = await reader.readline()
            if not status_line:
                raise ConnectionResetError("closed before a response")
            result.status = int(status_line.split()[1])
            while (await reader.readline()) not in (b"\r\n", b"\n", b""):
                pass  # the response headers
            decoder = Decoder()
            while chunk := await reader.read(65536):
                now = time.perf_counter() - start
                if result.first_byte is None:
                    result.first_byte = now
                for event in decoder.feed(chunk):
                    result.events += 1
                    if result.first_event is None:
                        result.first_event = time.perf_counter() - start
                    if event.data.startswith("{"):
                        sent = json.loads(event.data).get("t")
                        if sent is not None:
                            result.latencies_ms.append((time.time() - sent) * 1000)
    except TimeoutError:
        result.error = (
            "timed out waiting for the response" if result.status is None else "timed out during the body"
        )
    except OSError as exc:
        result.error = f"{type(exc).__name__}: {exc.strerror or exc}"
    finally:
        result.ended = time.perf_counter() - start
        if writer is not None:
            writer.close()
    return result


async def _load(
    url: str, streams: int, timeout: float, stagger: float, headers: dict[str, str]
) -> LoadReport:
    parts = urlsplit(url)
    target = parts.path + (f"?{parts.query}" if parts.query else "")
    start = time.perf_counter()

    async def one(index: int) -> StreamResult:
        await asyncio.sleep(index * stagger)
        opened = time.perf_counter() - start
        # Each reader's time counts from when it really starts. On a busy machine this loop wakes
        # late; a deadline fixed in advance would leave the late readers less than `timeout`, and a
        # server that answered them in time would look as if it had not answered at all.
        result = await _read_stream(
            parts.hostname, parts.port or 80, target or "/", headers, time.monotonic() + timeout
        )
        result.opened = opened
        return result

    results = await asyncio.gather(*(one(i) for i in range(streams)))
    return LoadReport(list(results), time.perf_counter() - start)


def run_load(
    url: str,
    *,
    streams: int,
    timeout: float = 30.0,
    stagger: float = 0.0,
    headers: dict[str, str] | None = None,
) -> LoadReport:
    """Open `streams` concurrent readers of `url` from a separate process and wait for them all.

    `timeout` bounds each stream (counted from its start); `stagger` spaces the starts.
    """
    command = [
        sys.executable,
        "-m",
        "helpers.load_client",
        url,
        "--streams",
        str(streams),
        "--timeout",
        str(timeout),
        "--stagger",
        str(stagger),
    ]
    if headers:
        command += ["--headers", json.dumps(headers)]
    done = subprocess.run(command, capture_output=True, text=True, timeout=timeout + streams * stagger + 60)
    if done.returncode != 0:
        raise RuntimeError(f"the load client failed:\n{done.stderr[-2000:]}")
    data = json.loads(done.stdout)
    return LoadReport([StreamResult(**s) for s in data["streams"]], data["wall_s"])


def _main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(
        description="Open concurrent SSE streams and print what each saw, as JSON."
    )
    parser.add_argument("url")
    parser.add_argument("--streams", type=int, default=10)
    parser.add_argument("--timeout", type=float, default=30.0)
    parser.add_argument("--stagger", type=float, default=0.0)
    parser.add_argument("--headers", default="{}")
    options = parser.parse_args(argv)
    # Each stream is a socket: raise the soft open-file limit as far as the hard one allows.
    _soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    try:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    except (ValueError, OSError):  # an unlimited hard limit (macOS): keep the soft one
        pass
    report = asyncio.run(
        _load(options.url, options.streams, options.timeout, options.stagger, json.loads(options.headers))
    )
    json.dump({"streams": [vars(s) for s in report.streams], "wall_s": report.wall_s}, sys.stdout)


if __name__ == "__main__":
    _main(sys.argv[1:])
