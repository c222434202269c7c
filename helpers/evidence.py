"""Measurements the notebooks record, so the interview drill can cite the learner's own numbers.

Stored as JSON in $STREAMING_LAB_DATA, else ~/.cache/streaming-lab/measurements.json:
outside the repository, so running the notebooks leaves the work tree clean.
"""

from __future__ import annotations

import json
import os
import platform
import time
from pathlib import Path

try:
    import fcntl
except ImportError:  # Windows has no flock; the file is still replaced whole
    fcntl = None

__all__ = ["KEYS", "record", "load", "data_file"]

# Every measurement a notebook records, by name, with what it holds. The interview drill reads
# them back; a name not listed here is refused, so a typo cannot create a second name.
KEYS = {
    "server.first_byte": "first byte and total time, streamed against buffered (03)",
    "server.memory_peak": "peak memory of a large response, streamed against built whole (03)",
    "model.first_token": "first text and total time, astream against ainvoke (04)",
    "agent.history_tokens": "prompt and completion tokens per turn of a multi-turn chat, from usage (05)",
    "agent.stopped_stream": "what a stopped stream cost: chunks received, tokens generated, stop delay (05)",
    "transport.bytes": "bytes each way for one answer over SSE and WebSocket (07)",
    "transport.stop_latency_ms": "time from a stop request to the final event (07)",
    "production.thread_pool": "first-token times of concurrent streams: 60 through sync def and async generators, 8 through blocking and offloaded ones (08)",
    "production.streams_per_worker": "latency p50/p99, RSS per stream and CPU of one worker at 10 to 1,000 streams (08)",
    "production.slow_reader": "bytes held and RSS growth for a reader that stopped reading, per design (08)",
    "production.proxy": "how tokens arrive through nginx per setting, and the idle cut at proxy_read_timeout (08)",
    "cost.framing": "bytes on the wire for one answer under each framing, and the model API's own chunk stream (09)",
    "cost.partial_json": "how re-parsing partial JSON at every chunk grows with the document, against an incremental parser: fitted exponents (09)",
    "cost.decision_table": "the decision table built from the measured grid (09)",
}


def data_file() -> Path:
    folder = os.environ.get("STREAMING_LAB_DATA") or Path.home() / ".cache" / "streaming-lab"
    return Path(folder) / "measurements.json"


def load() -> dict:
    """The recorded measurements, by name; names no longer in KEYS (from an older course) are left out."""
    try:
        data = json.loads(data_file().read_text(encoding="utf-8"))
    except (FileNotFoundError, json.JSONDecodeError):
        return {}
    return {name: value for name, value in data.items() if name in KEYS}


def record(name: str, value, *, source: str) -> None:
    """Save one measurement under `name` (one of KEYS), with the notebook it came from and the machine."""
    if name not in KEYS:
        raise KeyError(f"unknown measurement {name!r}; the names are listed in helpers.evidence.KEYS")
    path = data_file()
    path.parent.mkdir(parents=True, exist_ok=True)
    # Notebooks can run at once (the tests run several): one writer at a time, and a file that is
    # replaced whole, so no notebook reads half a file or loses another's record.
    with open(path.with_name(path.name + ".lock"), "w") as lock:
        if fcntl is not None:
            fcntl.flock(lock, fcntl.LOCK_EX)
        data = load()
        data[name] = {
            "value": value,
            "source": source,
            "when": time.strftime("%Y-%m-%d %H:%M"),
            "machine": f"{platform.system()} {platform.machine()}, {os.cpu_count()} cores",
        }
        partial = path.with_name(f"{path.name}.{os.getpid()}.tmp")
        partial.write_text(json.dumps(data, indent=1), encoding="utf-8")
        os.replace(partial, path)
