"""`make bench`: what nginx in front costs a stream, unbuffered, against the same stream direct.

The upstream is `helpers.paced_streams` in its own worker process; nginx (`helpers.nginx_proxy`,
`proxy_buffering off`) runs in front of it; the readers are `helpers.load_client` in another
process. Measured: time to the first byte of the body (readers one after another, so the
figure is latency, not queueing) and each event's latency with 100 streams open at once.
"""

from __future__ import annotations

import statistics

from helpers.load_client import percentile, run_load
from helpers.nginx_proxy import nginx_missing, start_proxy
from helpers.worker_process import start_worker

SEQUENTIAL, CONCURRENT = 100, 100


def rows() -> list[str]:
    if (missing := nginx_missing()) is not None:
        return [f"Not measured: {missing}"]
    with (
        start_worker("helpers.paced_streams:create_app", name="bench-proxied") as worker,
        start_proxy(worker.port, name="bench-nginx", buffering=False) as proxy,
    ):
        routes = {"direct": worker.url, "through nginx, proxy_buffering off": proxy.url}
        for base in routes.values():
            run_load(base + "/stream?tokens=1&interval=0", streams=5, timeout=30)  # warm both paths
        results = {}
        for name, base in routes.items():
            # the first event is sent at once (no pacing before it, after a random phase of up to 1 ms)
            first = run_load(
                base + "/stream?tokens=1&interval=0.001", streams=SEQUENTIAL, timeout=60, stagger=0.02
            )
            paced = run_load(base + "/stream?tokens=30&interval=0.1", streams=CONCURRENT, timeout=60)
            firsts = [s.first_byte * 1000 for s in first.streams if s.first_byte is not None]
            results[name] = (
                statistics.median(firsts),
                percentile(firsts, 99),
                paced.latency_ms(50),
                paced.latency_ms(99),
                first.ok + paced.ok,
            )
    lines = [
        f"| path | first byte, median of {SEQUENTIAL} | p99 | event latency p50, {CONCURRENT} streams | p99 | streams served |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for name, (median, p99, lat50, lat99, ok) in results.items():
        lines.append(
            f"| {name} | {median:.2f} ms | {p99:.2f} ms | {lat50:.2f} ms | {lat99:.2f} ms | {ok}/{SEQUENTIAL + CONCURRENT} |"
        )
    direct, proxied = results["direct"], results["through nginx, proxy_buffering off"]
    lines += [
        "",
        f"nginx added {proxied[0] - direct[0]:.2f} ms to the median first byte and {proxied[2] - direct[2]:.2f} ms to the median event latency.",
    ]
    return lines
