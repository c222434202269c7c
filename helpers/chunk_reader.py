"""Read a stream chunk by chunk, each read raced against a stop: the loop every relay of a model runs.

A server that relays a model's stream must notice a stop (a POST, a WebSocket message, a client
leaving) while it waits for the next chunk, not after the chunk arrives. `next_or(signal)` races
one read against `signal`, as Starlette races a response against the client's disconnect: the
first to finish wins. When the signal wins, the read stays pending, so a message that is not a
stop loses no chunk; `aclose()` cancels it and closes the stream, which closes the model's HTTP
response: the model sees the client leave and stops generating.
"""

from __future__ import annotations

import asyncio

__all__ = ["ChunkReader"]


class ChunkReader:
    """`next_or(signal)` the next chunk unless `signal` finishes first; `aclose()` when done.

    `timeout`: seconds of silence after which a read raises TimeoutError (None: wait as long as it takes).
    """

    def __init__(self, stream, *, timeout: float | None = None) -> None:
        self.stream = stream.__aiter__()
        self.timeout = timeout
        self.pending: asyncio.Future | None = None

    async def _read(self):
        if self.timeout is None:
            return await anext(self.stream, None)
        # `asyncio.timeout`, not `asyncio.wait_for`: on Python 3.11 `wait_for` can swallow a cancel
        # that arrives as the chunk does (CPython gh-86296), and the relay would go on reading.
        async with asyncio.timeout(self.timeout):
            return await anext(self.stream, None)

    async def next_or(self, signal: asyncio.Future) -> tuple[object | None, bool]:
        """`(chunk, False)`, the chunk None at the end of the stream, or `(None, True)` if `signal`
        finished first. A read that fails (a timeout, the model's error) raises here."""
        if self.pending is None:
            self.pending = asyncio.ensure_future(self._read())
        await asyncio.wait({self.pending, signal}, return_when=asyncio.FIRST_COMPLETED)
        if signal.done():
            return None, True
        chunk, self.pending = self.pending.result(), None
        return chunk, False

    async def aclose(self) -> None:
        """Cancel a read still pending, wait for it, then close the stream."""
        if self.pending is not None and not self.pending.done():
            self.pending.cancel()
            await asyncio.gather(self.pending, return_exceptions=True)
        self.pending = None
        await self.stream.aclose()
