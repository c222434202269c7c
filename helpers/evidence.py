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

__all__ = ["record", "load", "data_file"]


def data_file() -> Path:
    folder = os.environ.get("STREAMING_LAB_DATA") or Path.home() / ".cache" / "streaming-lab"
    return Path(folder) / "measurements.json"


def load() -> dict:
    try:
        return json.loads(data_file().read_text(encoding="utf-8"))
    except (FileNotFoundError, json.JSONDecodeError):
        return {}


def record(name: str, value, *, source: str) -> None:
    """Save one measurement under `name`, with the notebook it came from and the machine."""
    data = load()
    data[name] = {"value": value, "source": source, "when": time.strftime("%Y-%m-%d %H:%M"), "machine": f"{platform.system()} {platform.machine()}, {os.cpu_count()} cores"}
    path = data_file()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data, indent=1), encoding="utf-8")
