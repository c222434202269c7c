"""Streams that outlive one connection: a bounded replay buffer per stream, for `Last-Event-ID` resume.

A producer task writes events into the stream's buffer; each connection follows the
buffer from the sequence number it last saw. When the last connection goes away the
producer gets a short grace period to be resumed, then it is cancelled, so a closed
tab stops the model while a dropped connection can pick up where it left off.
"""

from __future__ import annotations

import asyncio
import secrets
from collections import deque
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field

__all__ = ["Stream", "StreamRegistry", "ResumeGap", "parse_event_id"]


class ResumeGap(Exception):
    """The events after the requested id have left the bounded buffer: exact resume is impossible."""


def parse_event_id(last_event_id: str) -> tuple[str, int] | None:
    """`"<stream>.<seq>"` -> (stream, seq); anything else -> None."""
    stream_id, dot, seq = last_event_id.rpartition(".")
    return (stream_id, int(seq)) if dot and stream_id and seq.isdigit() else None


@dataclass
class Stream:
    id: str
    buffer: deque = field(repr=False)  # (seq, event, data)
    next_seq: int = 1
    finished: bool = False
    subscribers: int = 0
    epoch: int = 0  # bumped by drop(): connections opened before it must end
    producer: asyncio.Task | None = field(default=None, repr=False)
    _wake: asyncio.Event = field(default_factory=asyncio.Event, repr=False)
    _cancel_later: asyncio.TimerHandle | None = field(default=None, repr=False)

    def event_id(self, seq: int) -> str:
        return f"{self.id}.{seq}"

    def emit(self, event: str, data) -> None:
        self.buffer.append((self.next_seq, event, data))
        self.next_seq += 1
        self._notify()

    def drop(self) -> None:
        """Make every open connection of this stream break, as a network failure would."""
        self.epoch += 1
        self._notify()

    def finish(self) -> None:
        self.finished = True
        self._notify()

    def _notify(self) -> None:
        self._wake.set()
        self._wake = asyncio.Event()

    async def follow(self, after: int = 0) -> AsyncIterator[tuple[int, str, object]]:
        """Every event with a sequence number above `after`, live, until the stream finishes."""
        if self.buffer and after < self.buffer[0][0] - 1:
            raise ResumeGap(f"events {after + 1}..{self.buffer[0][0] - 1} are no longer buffered")
        while True:
            wake = self._wake  # taken before scanning: an emit during our yield still wakes us
            for seq, event, data in list(self.buffer):
                if seq > after:
                    after = seq
                    yield seq, event, data
            if self.finished and after >= self.next_seq - 1:
                return
            await wake.wait()


class StreamRegistry:
    def __init__(self, *, buffer_size: int = 2000, grace: float = 2.0, keep_finished: float = 300.0) -> None:
        self.buffer_size, self.grace, self.keep_finished = buffer_size, grace, keep_finished
        self.streams: dict[str, Stream] = {}

    def start(self, produce: Callable[[Stream], Awaitable[None]]) -> Stream:
        stream = Stream(id=secrets.token_hex(6), buffer=deque(maxlen=self.buffer_size))
        self.streams[stream.id] = stream

        async def run() -> None:
            try:
                await produce(stream)
            finally:
                stream.finish()
                asyncio.get_running_loop().call_later(self.keep_finished, self.streams.pop, stream.id, None)

        stream.producer = asyncio.create_task(run(), name=f"stream-{stream.id}")
        return stream

    def get(self, stream_id: str) -> Stream | None:
        return self.streams.get(stream_id)

    def attach(self, stream: Stream) -> None:
        stream.subscribers += 1
        if stream._cancel_later is not None:
            stream._cancel_later.cancel()
            stream._cancel_later = None

    def detach(self, stream: Stream) -> None:
        """The last connection left: cancel the producer unless someone resumes within the grace period."""
        stream.subscribers -= 1
        if stream.subscribers == 0 and not stream.finished and stream.producer is not None:
            if self.grace <= 0:
                stream.producer.cancel()
            else:
                stream._cancel_later = asyncio.get_running_loop().call_later(self.grace, stream.producer.cancel)

    def active(self) -> list[Stream]:
        """Streams whose producer still runs: after every client is gone this must become empty."""
        return [s for s in self.streams.values() if s.producer is not None and not s.producer.done()]
