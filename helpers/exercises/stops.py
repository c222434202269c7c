"""Notebook 07: `measure_stops(url, token_delay, n)`, a Stop measured over WebSocket and over SSE.

Notebook 07 stopped a stream of 20 tokens a second after 5 tokens, both ways. The learner measures
the same on streams of another pace, and reports for each transport the latency (from sending the
stop to receiving `done`) and how many tokens arrived after the stop was sent. The check serves
notebook 07's transport app behind a recorder of what the server received and sent, and when, so
each figure is compared with the server's own record of the same run: the overshoot exactly, the
latency within the bounds the server's timestamps allow.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field

from ..sse import Decoder
from .common import async_function, call, passed, require, served, short

__all__ = ["check_stops", "PACES"]

PACES = [(0.25, 4), (0.002, 20)]  # (token_delay, n): 4 tokens a second, then 500
TRANSPORTS = ("websocket", "sse")


@dataclass
class _Connection:
    kind: str  # http or websocket
    method: str
    path: str
    opened: float
    received: list = field(default_factory=list)  # (time, text) of WebSocket messages from the client
    sent: list = field(default_factory=list)  # (time, type, data) of events / messages to the client


class _Recorder:
    """ASGI middleware: every connection, what the client sent on a WebSocket, and every event sent back, with times."""

    def __init__(self, app) -> None:
        self.app, self.connections = app, []

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] not in ("http", "websocket"):
            return await self.app(scope, receive, send)
        connection = _Connection(scope["type"], scope.get("method", "GET"), scope["path"], time.monotonic())
        self.connections.append(connection)
        decoder = Decoder()

        async def receive_recorded():
            message = await receive()
            if message["type"] == "websocket.receive":
                connection.received.append((time.monotonic(), message.get("text") or ""))
            return message

        async def send_recorded(message) -> None:
            if message["type"] == "http.response.body" and message.get("body"):
                connection.sent += [
                    (time.monotonic(), e.type, _data(e.data)) for e in decoder.feed(message["body"])
                ]
            elif message["type"] == "websocket.send" and message.get("text"):
                data = _data(message["text"])
                connection.sent.append(
                    (time.monotonic(), data.get("type", "?") if isinstance(data, dict) else "?", data)
                )
            await send(message)

        await self.app(scope, receive_recorded, send_recorded)


def _data(text: str):
    try:
        return json.loads(text)
    except ValueError:
        return text


@dataclass
class _Observed:
    """One transport's stop, as the server saw it."""

    request: float  # the stream's request (or the WebSocket's first message) arrived
    token_times: list[float]  # each token sent
    stop: float | None  # the stop arrived
    done_at: float | None
    done: dict | None


def _observed(recorder: _Recorder, since: int, transport: str) -> _Observed | None:
    connections = recorder.connections[since:]
    if transport == "websocket":
        socket = next((c for c in connections if c.kind == "websocket"), None)
        if socket is None:
            return None
        stops = [t for t, text in socket.received if '"stop"' in text]
        request = socket.received[0][0] if socket.received else socket.opened
    else:
        socket = next(
            (c for c in connections if c.kind == "http" and c.method == "GET" and c.path == "/sse"), None
        )
        if socket is None:
            return None
        stops = [
            c.opened
            for c in connections
            if c.method == "POST" and c.path.startswith("/sse/") and c.path.endswith("/stop")
        ]
        request = socket.opened
    tokens = [t for t, kind, _ in socket.sent if kind == "token"]
    done = next(((t, data) for t, kind, data in socket.sent if kind == "done"), (None, None))
    return _Observed(
        request, tokens, stops[0] if stops else None, done[0], done[1] if isinstance(done[1], dict) else None
    )


async def check_stops(measure_stops) -> None:
    """07: for each transport, the stop's latency and the tokens that arrived after it, at two paces."""
    from ..embedded_model import server_chat_model
    from ..transports import create_transport_app

    async_function(measure_stops, "measure_stops")
    recorder = _Recorder(create_transport_app(lambda: server_chat_model(offline=True)))
    lines = []
    with served(recorder, "exercise-07") as server:
        for token_delay, n in PACES:
            since = len(recorder.connections)
            result = await call(
                f"measure_stops(url, {token_delay}, {n})",
                measure_stops,
                server.url,
                token_delay,
                n,
                timeout=30,
            )
            lines.append(_verify(result, recorder, since, token_delay, n))
    passed("the figures match the server's record of the same run:\n   " + "\n   ".join(lines))


def _verify(result, recorder: _Recorder, since: int, token_delay: float, n: int) -> str:
    call_text = f"measure_stops(url, {token_delay}, {n})"
    require(
        isinstance(result, dict)
        and set(TRANSPORTS) <= set(result)
        and all(isinstance(result[t], dict) for t in TRANSPORTS),
        f"{call_text} returned {short(result, 100)}; expected a dict with 'websocket' and 'sse', each a dict with 'latency' and 'after_stop'.",
    )
    line = []
    for transport in TRANSPORTS:
        figures, name = result[transport], {"websocket": "WebSocket", "sse": "SSE"}[transport]
        latency, after = figures.get("latency"), figures.get("after_stop")
        require(
            isinstance(latency, (int, float)) and isinstance(after, int) and not isinstance(after, bool),
            f"{call_text}[{transport!r}] is {short(figures, 100)}; expected a number of seconds 'latency' and a whole number 'after_stop'.",
        )
        seen = _observed(recorder, since, transport)
        route = "/ws" if transport == "websocket" else "GET /sse"
        require(
            seen is not None,
            f"at token_delay={token_delay}, the server at the url you were given saw no {route} request: measure that server.",
        )
        require(
            seen.stop is not None,
            f"at token_delay={token_delay}, the {name} stream got no stop: "
            + (
                "no message with the action stop arrived on the socket."
                if transport == "websocket"
                else "no POST /sse/{id}/stop arrived."
            )
            + (f" The server sent all {len(seen.token_times)} tokens." if seen.done else ""),
        )
        before_stop = sum(t < seen.stop for t in seen.token_times)
        require(
            before_stop >= n,
            f"at token_delay={token_delay}, the {name} stop arrived when the server had sent {before_stop} tokens; it was to be sent after the client received {n}.",
        )
        require(
            seen.done is not None and seen.done.get("stopped") is True,
            f"at token_delay={token_delay}, the {name} stream did not end with a stopped `done`: {short(seen.done)}.",
        )
        sent = seen.done["tokens"]
        require(
            after == sent - n,
            f"at token_delay={token_delay}, you reported {after} {name} tokens after the stop; the server sent {sent} "
            f"tokens in all, and the stop was sent after token {n}.",
        )
        nth = seen.token_times[n - 1]
        # the stop left the client before it arrived; done arrived after it left
        lowest = seen.done_at - seen.stop
        # Generous, for a busy machine that delays the client; still less than the wait before the stop, which a
        # clock started at the request would add (at 4 tokens a second that wait is most of a second).
        highest = seen.done_at - nth + max(0.3, 0.5 * (nth - seen.request))
        require(
            latency >= lowest - 0.005,
            f"at token_delay={token_delay}, you reported a {name} latency of {latency * 1000:.1f} ms, but the server "
            f"sent `done` {lowest * 1000:.1f} ms after the stop reached it, so the client waited at least that long.",
        )
        require(
            latency <= highest,
            f"at token_delay={token_delay}, you reported a {name} latency of {latency * 1000:.0f} ms, but the server sent `done` "
            f"{(seen.done_at - nth) * 1000:.1f} ms after the token the stop followed: the clock started before the stop was sent.",
        )
        line.append(
            f"{name} {latency * 1000:.1f} ms, {after} token{'s' if after != 1 else ''} after the stop"
        )
    return f"at {1 / token_delay:.0f} tokens/s: " + "; ".join(line)
