"""Notebook 02: `events(chunks)`, a decoder of `text/event-stream` bytes, written by the learner.

The check compares it with the specification's decoder (`helpers.sse`, which the browser tests
show to match Chromium) on streams that mix the three things a casual decoder gets wrong: CRLF
and lone CR line ends, comments, and a UTF-8 character split between two network chunks. Each
stream is fed whole, split at every byte, and one byte at a time. Then, chunk by chunk, every
event must come out as soon as the line that dispatches it has arrived, as a browser fires it.
"""

from __future__ import annotations

from .. import sse
from .common import async_generator, feed, passed, require, short

__all__ = ["check_events", "STREAMS"]

STREAMS = [
    # CRLF everywhere, a comment before the first event, a keep-alive comment block, 你好 (3 bytes each)
    b": welcome\r\nevent: token\r\ndata: \xe4\xbd\xa0\xe5\xa5\xbd\r\n\r\n: ping\r\n\r\n"
    b"data: line one\r\ndata: line two\r\n\r\nevent: done\r\ndata:\r\n\r\n",
    # lone CR, LF and CRLF in one stream; an event with no data line is never dispatched
    b"data: a\rdata: b\n\ndata:no space\r\n\r\nevent: ignored\n\nevent: token\rdata: \xe4\xb8\x96\xe7\x95\x8c\r\r",
    # a byte order mark at the start; the last event has no blank line, so it is discarded
    b"\xef\xbb\xbfdata: first\n\n:comment\ndata:  two spaces\ndata\n\ndata: never dispatched\n",
]


def _expected(stream: bytes) -> list[tuple[str, str]]:
    return [(e.type, e.data) for e in sse.parse(stream)]


async def _decode(events, chunks: list[bytes], pulled: list[int] | None = None) -> list[tuple]:
    """Feed `chunks` to the learner's `events`; with `pulled`, note how many chunks were read at each event."""
    fed = await feed(events, chunks, f"events(...) on the chunks {_show(chunks)}")
    if pulled is not None:
        pulled.extend(count for _, count in fed)
    return [item for item, _ in fed]


def _show(chunks: list[bytes], width: int = 20) -> str:
    """Chunks as a reader needs to see them: short ones whole, long ones cut around the boundaries."""
    if len(chunks) == 1:
        return f"{short(chunks[0], 70)} (the whole stream in one chunk)"
    if sum(map(len, chunks)) <= 60:
        return f"the chunks {chunks!r}"
    if len(chunks) == 2:
        return f"the chunks […{chunks[0][-width:]!r}, {chunks[1][:width]!r}…] (split after byte {len(chunks[0])})"
    return f"the chunks [{short(chunks[0], 30)}, …] ({len(chunks)} chunks)"


def _wrong(chunks: list[bytes], got: list, expected: list) -> str:
    return f"for {_show(chunks)} you yielded {short(got, 160)}; a browser dispatches {short(expected, 160)}."


async def check_events(events) -> None:
    """02: `events(chunks)` yields (type, data) exactly as a browser dispatches them, as soon as it does."""
    async_generator(events, "events")
    expected = {stream: _expected(stream) for stream in STREAMS}
    used, feed = [], sse.Decoder.feed

    def spy(self, chunk):  # the course's decoder is the reference, so it must not be the answer
        used.append(True)
        return feed(self, chunk)

    sse.Decoder.feed = spy
    try:
        for stream in STREAMS:  # whole: the line ends, comments and fields
            got = await _decode(events, [stream])
            require(
                not used,
                "your events() calls helpers.sse.Decoder, the decoder the check compares it with; write the decoding yourself.",
            )
            require(got == expected[stream], _wrong([stream], got, expected[stream]))
        for stream in STREAMS:  # split at every byte: a chunk boundary may fall anywhere
            for cut in range(1, len(stream)):
                chunks = [stream[:cut], stream[cut:]]
                got = await _decode(events, chunks)
                require(got == expected[stream], _wrong(chunks, got, expected[stream]))
            chunks = [stream[i : i + 1] for i in range(len(stream))]
            got = await _decode(events, chunks)
            require(
                got == expected[stream],
                f"fed one byte at a time, {_wrong(chunks, got, expected[stream])[4:]}",
            )
        await _check_timing(events)
    finally:
        sse.Decoder.feed = feed
    passed(
        f"{len(STREAMS)} streams decoded as a browser does: whole, split at every byte, byte by byte, each event as soon as it was complete"
    )


async def _check_timing(events) -> None:
    """Each event must come out before the chunk after its dispatching line break is read."""
    for stream in STREAMS:
        decoder, chunks, due, start = sse.Decoder(), [], [], 0
        for end in range(1, len(stream) + 1):  # cut right after every byte that completes an event
            completed = decoder.feed(stream[end - 1 : end])
            if completed:
                chunks.append(stream[start:end])
                start = end
                due += [len(chunks)] * len(completed)
        if start < len(stream):
            chunks.append(stream[start:])
        pulled: list[int] = []
        got = await _decode(events, chunks, pulled)
        require(got == _expected(stream), _wrong(chunks, got, _expected(stream)))
        for item, read, chunk_number in zip(got, pulled, due):
            ends_in_cr = chunks[chunk_number - 1].endswith(b"\r")
            require(
                read <= chunk_number,
                f"the event {short(item)} was complete at the end of chunk {chunk_number} of {_show(chunks)}, "
                f"but you yielded it only after reading chunk {read}"
                + (
                    ": that chunk ended with CR, which ends a line by itself (an LF after it belongs to the same line end)."
                    if ends_in_cr
                    else "."
                ),
            )
