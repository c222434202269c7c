"""Timing a response as it arrives: time to first byte, total time, and when each chunk came."""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import httpx

__all__ = ["StreamTiming", "time_request"]


@dataclass
class StreamTiming:
    label: str
    status: int
    ttfb: float  # seconds from sending the request to the first body byte
    total: float  # seconds until the body ended
    arrivals: list[tuple[float, int]] = field(default_factory=list)  # (seconds, bytes) per chunk read
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)

    @property
    def nbytes(self) -> int:
        return len(self.body)

    def summary(self) -> str:
        return f"{self.label}: first byte {self.ttfb:.3f} s, total {self.total:.3f} s, {len(self.arrivals)} chunks, {self.nbytes} bytes"


# A notebook prints this function's source: the formatter leaves it as the notebook shows it.
# fmt: off
async def time_request(url: str, *, label: str = "", method: str = "GET", json=None, headers=None, timeout: float = 30.0) -> StreamTiming:
    """Send one request with httpx and record when every chunk of the body arrives."""
    async with httpx.AsyncClient(timeout=timeout) as client:
        start = time.perf_counter()
        async with client.stream(method, url, json=json, headers=headers) as response:
            arrivals, parts = [], []
            async for chunk in response.aiter_raw():
                arrivals.append((time.perf_counter() - start, len(chunk)))
                parts.append(chunk)
            total = time.perf_counter() - start
    ttfb = arrivals[0][0] if arrivals else total
    return StreamTiming(label or url, response.status_code, ttfb, total, arrivals, b"".join(parts), dict(response.headers))
# fmt: on
