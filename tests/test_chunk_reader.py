"""ChunkReader: each read raced against a signal; a signal that wins leaves the read pending; aclose
cancels what is pending and closes the stream (which is how the model learns the client left)."""

import asyncio

import pytest

from helpers.chunk_reader import ChunkReader


class Source:
    """An async generator's stand-in that records what happened to it."""

    def __init__(self, items, gate: asyncio.Event | None = None):
        self.items, self.gate = list(items), gate
        self.closed = self.cancelled = False

    async def generate(self):
        try:
            for item in self.items:
                if self.gate is not None:
                    await self.gate.wait()
                    self.gate.clear()
                yield item
        except asyncio.CancelledError:
            self.cancelled = True
            raise
        finally:
            self.closed = True


def never() -> asyncio.Future:
    return asyncio.get_running_loop().create_future()


def test_reads_every_chunk_then_none_at_the_end():
    async def scenario():
        source = Source(["a", "b"])
        reader, signal = ChunkReader(source.generate()), never()
        got = [await reader.next_or(signal) for _ in range(3)]
        await reader.aclose()
        return got, source.closed

    assert asyncio.run(scenario()) == ([("a", False), ("b", False), (None, False)], True)


def test_a_signal_that_wins_leaves_the_read_pending_and_loses_no_chunk():
    async def scenario():
        gate = asyncio.Event()
        source = Source(["a", "b"], gate)
        reader = ChunkReader(source.generate())
        message = asyncio.get_running_loop().create_future()
        message.set_result({"action": "ping"})
        first = await reader.next_or(message)  # the message wins: no chunk is ready
        gate.set()
        second = await reader.next_or(never())  # the same read goes on and delivers "a"
        await reader.aclose()
        return first, second

    assert asyncio.run(scenario()) == ((None, True), ("a", False))


def test_aclose_cancels_a_pending_read_and_closes_the_stream():
    async def scenario():
        source = Source(["a"], asyncio.Event())  # the gate never opens: the read waits for ever
        reader = ChunkReader(source.generate())
        stop = asyncio.get_running_loop().create_future()
        asyncio.get_running_loop().call_later(0.05, stop.set_result, None)
        assert await reader.next_or(stop) == (None, True)
        await reader.aclose()
        return reader.pending, source.cancelled, source.closed

    assert asyncio.run(scenario()) == (None, True, True)


def test_a_timeout_of_silence_raises_from_the_read():
    async def scenario():
        reader = ChunkReader(Source(["a"], asyncio.Event()).generate(), timeout=0.05)
        try:
            await reader.next_or(never())
        finally:
            await reader.aclose()

    with pytest.raises(TimeoutError):
        asyncio.run(scenario())
