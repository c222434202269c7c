"""Notebook 03: `first_token_and_total(url)`, the time to the first *token*, which is not the first byte.

Notebook 03 measured the first byte of a stream whose first byte was its first token. Real
streams start with other things: a comment that opens the connection through proxies, a `retry`
field, a retrieval step, and a token event that the network delivers in two pieces. The check's
server sends all of those before the first token is complete, and records when it wrote each
part; the learner's figures are compared with those records, from the same run.
"""

from __future__ import annotations

import asyncio
import time

from .common import async_function, call, passed, require, served, server_error_hint

__all__ = ["check_first_token", "PREAMBLE"]

PREAMBLE = "a comment, a `retry` field, a `step` event and the first half of the token event"


def _app(times: dict):
    from fastapi import FastAPI
    from fastapi.responses import StreamingResponse

    app = FastAPI()

    @app.get("/answer")
    async def answer():
        times.clear()
        times["request"] = time.monotonic()

        async def body():
            yield b": connected\n\nretry: 3000\n\n"  # at once, as many servers do to open the stream
            await asyncio.sleep(0.15)
            yield b'event: step\ndata: {"step": "retrieval", "title": "The text/event-stream format"}\n\n'
            await asyncio.sleep(0.15)
            yield b'event: token\ndata: {"text": "Hel'  # the network delivers the first token in two pieces
            await asyncio.sleep(0.15)
            yield b'lo"}\n\n'
            times["first_token"] = time.monotonic()
            for word in (" from", " the", " server"):
                await asyncio.sleep(0.15)
                yield f'event: token\ndata: {{"text": "{word}"}}\n\n'.encode()
            await asyncio.sleep(0.15)
            yield b"event: done\ndata: {}\n\n"
            times["end"] = time.monotonic()

        return StreamingResponse(
            body(), media_type="text/event-stream", headers={"Cache-Control": "no-cache"}
        )

    return app


async def check_first_token(first_token_and_total) -> None:
    """03: (seconds to the first complete token event, seconds to the end of the stream)."""
    async_function(first_token_and_total, "first_token_and_total")
    times: dict = {}
    with served(_app(times), "exercise-03") as server:
        result = await call("first_token_and_total(url)", first_token_and_total, server.url + "/answer")
    require(
        isinstance(result, tuple) and len(result) == 2 and all(isinstance(x, (int, float)) for x in result),
        f"first_token_and_total returned {result!r}; the caller expects a tuple of two numbers of seconds (first token, end)."
        + server_error_hint(server),
    )
    first, total = result
    require(
        "end" in times,
        "the server never finished sending: your function left before the end of the stream."
        + server_error_hint(server),
    )
    first_due, end_due = times["first_token"] - times["request"], times["end"] - times["request"]
    require(
        first >= first_due - 0.02,
        f"you reported the first token after {first:.2f} s, but the first token event was complete only {first_due:.2f} s "
        f"after the request arrived; before it came {PREAMBLE}.",
    )
    require(
        total >= end_due - 0.02,
        f"you reported the end after {total:.2f} s, but the server sent its last event {end_due:.2f} s after the request arrived.",
    )
    require(
        first
        <= total
        - 0.25 * (end_due - first_due),  # a fraction of the gap: a busy machine may delay the client's reads
        f"you reported the first token after {first:.2f} s and the end after {total:.2f} s, but the server finished "
        f"{end_due - first_due:.2f} s after the first token was complete: the first figure was taken too late.",
    )
    passed(f"first token after {first:.2f} s (the first byte came long before it), end after {total:.2f} s")
