"""Notebook 11: a streaming server and a client, written from memory, checked as strictly as the course's own.

The server (`make_app(tokens, delay)`) is read by the specification's decoder: every token must
arrive exactly, line breaks included, one event per token, paced, then a `done` a browser
dispatches, with the headers a stream needs. The client (`read_tokens(url)`) reads a stream the
check serves, which holds what real streams hold: comments, CRLF, `retry` and `id` fields, a token
whose JSON is `{}`, multi-line data, an event and a character split across network chunks, a
`message` that is not a token, and a connection that stays open after `done`. Then the client
reads the learner's own server.
"""

from __future__ import annotations

import asyncio
import time

import httpx

from ..sse import Decoder
from .common import (
    NotSolvedYet,
    async_function,
    call,
    learner_code,
    passed,
    require,
    served,
    server_error_hint,
    short,
)

__all__ = ["check_server_and_client", "SERVER_TOKENS", "CLIENT_EXPECTS"]

SERVER_TOKENS = ["Hello", " {}", " two\nlines", "\n\n", " 你好", " world"]
DELAY = 0.1
CLIENT_EXPECTS = ["{}", "two\nlines", "你好", " done?"]
OPEN_AFTER_DONE = 30.0  # the check's stream stays open this long after `done`
PATIENCE = 5.0  # seconds the check waits for read_tokens to return after `done` was sent


def _tricky_app(sent: dict):
    from fastapi import FastAPI
    from fastapi.responses import StreamingResponse

    app = FastAPI()

    @app.get("/tricky")
    async def tricky():
        async def body():
            yield b": hello\r\n\r\nretry: 1000\r\nid: 1\r\nevent: token\r\ndata: {}\r\n\r\n"
            await asyncio.sleep(0.05)
            yield b"event: token\ndata: two\ndata: lines\n\n"
            await asyncio.sleep(0.05)
            yield b"event: tok"  # an event, and a character, split across network chunks
            await asyncio.sleep(0.05)
            yield b"en\ndata: \xe4\xbd"
            await asyncio.sleep(0.05)
            yield b"\xa0\xe5\xa5\xbd\n\ndata: a message, not a token\n\nevent: token\ndata:  done?\n\n"
            await asyncio.sleep(0.05)
            yield b"event: done\ndata: {}\n\n"
            sent["done"] = time.monotonic()
            # some servers keep the connection: the end is `done`, not the close
            await asyncio.sleep(OPEN_AFTER_DONE)
            yield b"event: token\ndata: after the end\n\n"

        return StreamingResponse(body(), media_type="text/event-stream")

    return app


async def _check_server(make_app) -> None:
    with learner_code(f"make_app({SERVER_TOKENS!r}, {DELAY})"):
        app = make_app(list(SERVER_TOKENS), DELAY)
    with served(app, "exercise-11-server") as server:
        decoder, arrivals, events, body = Decoder(), [], [], ""
        async with httpx.AsyncClient(timeout=10) as client:
            with learner_code("reading GET /stream of your app"):
                async with asyncio.timeout(15):
                    start = time.monotonic()
                    async with client.stream(
                        "GET", server.url + "/stream", headers={"Accept": "text/event-stream"}
                    ) as response:
                        status, headers = response.status_code, response.headers
                        if status == 200:
                            async for chunk in response.aiter_raw():
                                for event in decoder.feed(chunk):
                                    events.append(event)
                                    arrivals.append(time.monotonic() - start)
                        else:
                            body = (await response.aread()).decode(errors="replace")
        require(
            status == 200, f"GET /stream answered {status} {short(body, 60)}." + server_error_hint(server)
        )
        media_type = headers.get("content-type", "").split(";")[0].strip()
        require(
            media_type == "text/event-stream",
            f"GET /stream answered with Content-Type {media_type or '(none)'}; EventSource accepts only text/event-stream.",
        )
        cache = headers.get("cache-control", "")
        require(
            "no-cache" in cache or "no-store" in cache,
            f"GET /stream sent Cache-Control: {cache or '(none)'}; a cache or proxy may keep or hold back a stream without no-cache.",
        )
        tokens = [e.data for e in events if e.type == "token"]
        require(
            tokens == SERVER_TOKENS,
            f"for the tokens {SERVER_TOKENS!r} a browser received the token events {tokens!r}"
            + (
                " (all the events: " + short([(e.type, e.data) for e in events], 120) + ")"
                if len(tokens) != len(SERVER_TOKENS)
                else ""
            )
            + ".",
        )
        kinds = [e.type for e in events]
        require(
            kinds[-1:] == ["done"],
            f"a browser dispatched the events {short(kinds, 100)}: the last is not `done`, so a page that closes on it never does, and reconnects.",
        )
        token_times = [t for t, e in zip(arrivals, events) if e.type == "token"]
        spread, wanted = token_times[-1] - token_times[0], (len(SERVER_TOKENS) - 1) * DELAY
        require(
            spread >= 0.6 * wanted,
            f"the {len(SERVER_TOKENS)} token events arrived within {spread:.2f} s of each other; {DELAY} s apart, they take {wanted:.2f} s.",
        )


async def _check_client(read_tokens) -> None:
    sent: dict = {}
    with served(_tricky_app(sent), "exercise-11-client") as server:
        try:
            got = await call("read_tokens(url)", read_tokens, server.url + "/tricky", timeout=PATIENCE + 1)
        except NotSolvedYet as failure:
            if "done" in sent and "did not finish in time" in str(failure):
                raise NotSolvedYet(
                    f"read_tokens had not returned {PATIENCE:g} s after the server sent `done`; "
                    "this server keeps the connection open after it, as servers may: the end of the answer is the `done` event, not the close."
                ) from None
            raise
    require(
        got == CLIENT_EXPECTS,
        f"read_tokens returned {got!r}; a browser would have dispatched the token events {CLIENT_EXPECTS!r} before `done` "
        "(the stream held comments, CRLF line ends, retry and id fields, a `message` event, and an event and a character split across chunks).",
    )


async def check_server_and_client(make_app, read_tokens) -> None:
    """11: the server: exact tokens, paced, `done`, headers; the client: a browser's reading, ending at `done`."""
    require(callable(make_app), f"make_app is {type(make_app).__name__}, not a function.")
    async_function(read_tokens, "read_tokens")
    await _check_server(make_app)
    await _check_client(read_tokens)
    with learner_code(f"make_app({SERVER_TOKENS!r}, {DELAY})"):
        app = make_app(list(SERVER_TOKENS), DELAY)
    with served(app, "exercise-11-server") as server:
        got = await call(
            "read_tokens(url) on your own server", read_tokens, server.url + "/stream", timeout=15
        )
    require(
        got == SERVER_TOKENS, f"read_tokens on your own server returned {got!r}; it sent {SERVER_TOKENS!r}."
    )
    passed("a server a browser reads exactly, and a client that reads like a browser")
