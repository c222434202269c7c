"""`make bench`: how many streams one uvicorn worker holds, 10 to 1,000 (notebook 08, section 2).

One worker process serves `helpers.paced_streams` (a token event every 100 ms, stamped with the
server's clock); a load client in another process opens N streams at once and computes each
event's latency; the benchmark samples the worker's memory and CPU meanwhile.
"""

from __future__ import annotations

import statistics

from helpers.paced_streams import measure_streams
from helpers.worker_process import open_file_limit, start_worker

COUNTS = (10, 100, 250, 500, 1000)
TOKENS, INTERVAL = 30, 0.1


def rows() -> list[str]:
    with start_worker("helpers.paced_streams:create_app", name="bench-paced") as worker:
        sweep = [measure_streams(worker, n, tokens=TOKENS, interval=INTERVAL, timeout=120) for n in COUNTS]
    slope = statistics.linear_regression(
        [m.streams for m in sweep], [m.rss_peak - m.rss_before for m in sweep]
    ).slope
    lines = [
        f"Each stream: {TOKENS} events, one every {INTERVAL * 1000:.0f} ms. Open-file limit of the benchmark: {open_file_limit()[0]} (the worker raises its own to the hard limit).",
        "",
        "| streams | served | event latency p50 | p99 | RSS growth | per stream | worker CPU (% of one core) |",
        "|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for m in sweep:
        lines.append(
            f"| {m.streams:,} | {m.report.ok:,} | {m.report.latency_ms(50):.2f} ms | {m.report.latency_ms(99):.1f} ms | "
            f"{(m.rss_peak - m.rss_before) / 2**20:.1f} MiB | {m.rss_per_stream / 1024:.1f} KiB | {m.cpu_percent:.0f}% |"
        )
    lines += ["", f"Memory per open stream, least-squares fit over all rows: {slope / 1024:.1f} KiB."]
    return lines
