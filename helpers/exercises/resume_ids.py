"""Notebook 06: `make_app(store)`, the follow route of a resumable stream, with ids the learner designs.

Notebook 06 resumed a stream as a client. Here the learner is the server: the events of each
stream are in a stream store (`helpers.stream_store`, as the relay keeps them), written by a
producer the check runs, and the learner's `GET /streams/{stream_id}` must send them so that a
browser's `EventSource` resumes without a gap or a repeat. The ids are the learner's to choose.

The check behaves as `EventSource` does, through the specification's decoder: it reconnects with
the last id it saw as `Last-Event-ID` (none if no event carried one). It drops the connection at
several points, on a finished stream and on one still being written, and then sends what a
confused or stale client sends: the id of the final event, an id of another stream, an id past
the end, and an id that is not one. A stream that does not exist must be a 404.
"""

from __future__ import annotations

import asyncio
import json
import re
import secrets

import httpx

from ..sse import Decoder, Event
from ..stream_store import MemoryStore
from .common import learner_code, passed, require, served, server_error_hint, short

__all__ = ["check_resume_ids", "EVENTSOURCE"]

EVENTSOURCE = {"Accept": "text/event-stream", "Cache-Control": "no-cache"}  # what a browser sends
WAIT = 5.0  # seconds the check waits for a response that should end (generous: the machine may be busy)
_TOKENS = [
    "Resume",
    " needs",
    " ids",
    ":\n",
    " an",
    " id",
    " on",
    " every",
    " event",
    ",",
    " 流式",
    "输出",
    ".",
]


def _events() -> list[tuple[str, dict]]:
    text = "".join(_TOKENS)
    return [
        ("step", {"step": "retrieval", "title": "Resuming a stream"}),
        *(("token", {"text": t}) for t in _TOKENS),
        ("done", {"text": text, "complete": True}),
    ]


async def _produce(store: MemoryStore, stream_id: str, pace: float) -> None:
    await store.create(stream_id)
    for kind, data in _events():
        if pace:
            await asyncio.sleep(pace)
        await store.append(stream_id, kind, data)


class _Read:
    def __init__(
        self,
        status: int,
        media_type: str,
        events: list[Event],
        last_id: str,
        body: bytes = b"",
        hung: bool = False,
    ) -> None:
        self.status, self.media_type, self.events, self.last_id, self.body = (
            status,
            media_type,
            events,
            last_id,
            body,
        )
        self.hung = hung  # the response neither ended nor sent anything more before the check's deadline

    def outcome(self) -> str:
        """`200 and 3 events`, `200 and 3 events, then nothing for 5 s`, `400 'detail'`."""
        if self.status != 200:
            return f"{self.status} {short(self.body.decode(errors='replace'), 60)}"
        return f"200 and {len(self.events)} events" + (
            f", then nothing for {WAIT:g} s (the response stayed open)" if self.hung else ""
        )

    def pairs(self) -> list[tuple[str, object]]:
        out = []
        for event in self.events:
            try:
                out.append((event.type, json.loads(event.data)))
            except ValueError:
                out.append((event.type, event.data))
        return out


async def _read(
    client: httpx.AsyncClient, url: str, *, last_id: str | None = None, leave_after: int | None = None
) -> _Read:
    """Follow `url` as EventSource does; leave (a dropped connection) after `leave_after` events."""
    headers = dict(EVENTSOURCE, **({"Last-Event-ID": last_id} if last_id else {}))
    decoder, events, status, media_type = Decoder(), [], 0, ""
    with learner_code(f"GET /streams/{url.rsplit('/', 1)[-1]}"):
        try:
            async with asyncio.timeout(WAIT):
                async with client.stream("GET", url, headers=headers) as response:
                    status, media_type = (
                        response.status_code,
                        response.headers.get("content-type", "").split(";")[0].strip(),
                    )
                    if status != 200 or media_type != "text/event-stream":
                        return _Read(status, media_type, [], decoder.last_event_id, await response.aread())
                    async for chunk in response.aiter_raw():
                        events += decoder.feed(chunk)
                        if leave_after is not None and len(events) >= leave_after:
                            events = events[:leave_after]  # what the reader saw before its connection dropped
                            return _Read(200, media_type, events, events[-1].id)
        except TimeoutError:
            if not status:
                raise
            return _Read(status, media_type, events, decoder.last_event_id, hung=True)
    return _Read(200, media_type, events, decoder.last_event_id)


def _numbered(pairs: list, expected: list) -> str:
    """Which of the expected events (1-based) the pairs are, as a short range description."""
    numbers = [expected.index(p) + 1 if p in expected else "?" for p in pairs]
    return short(numbers, 90)


async def check_resume_ids(make_app) -> None:
    """06: every event with an id; Last-Event-ID resumes exactly after it; 204 after done; 4xx for ids that are not this stream's."""
    require(callable(make_app), f"make_app is {type(make_app).__name__}, not a function.")
    store = MemoryStore()
    with learner_code("make_app(store)"):
        app = make_app(store)
    routes = [getattr(route, "endpoint", None) for route in getattr(app, "routes", [])]
    require(
        not any(
            (getattr(endpoint, "__module__", None) or "").startswith("helpers.chat_app")
            for endpoint in routes
        ),
        "your app is the course's relay (helpers.chat_app): the exercise is to write its follow route yourself.",
    )
    expected = _events()
    finished, live = secrets.token_hex(8), secrets.token_hex(8)
    await _produce(store, finished, 0)
    with served(app, "exercise-06") as server:
        async with httpx.AsyncClient(timeout=10) as client:
            base = f"{server.url}/streams/"
            whole = await _read(client, base + finished)
            require(
                whole.status == 200 and whole.media_type == "text/event-stream",
                f"GET /streams/<id> answered {whole.status} {whole.media_type or '(no content type)'} {short(whole.body.decode(errors='replace'), 60)}; "
                "a stream is a 200 text/event-stream." + server_error_hint(server),
            )
            require(
                whole.pairs() == expected and not whole.hung,
                f"following a finished stream from its start gave {whole.outcome()}: {short(whole.pairs(), 120)}; "
                f"the store holds {len(expected)}, ending with `done`: {short(expected, 120)}."
                + server_error_hint(server),
            )
            for drop_after in (1, 6, len(expected) - 1):
                await _check_resume(client, base + finished, expected, drop_after, server)

            producer = asyncio.create_task(_produce(store, live, 0.03))  # a stream still being written
            try:
                await _check_resume(client, base + live, expected, 3, server, still_writing=True)
            finally:
                await producer

            await _check_refusals(client, base, finished, live, expected, whole, server)
    passed(
        f"resumed without a gap or a repeat after drops at events 1, 6, {len(expected) - 1} and on a live stream; 204 after done; other ids refused"
    )


async def _check_resume(
    client, url: str, expected: list, drop_after: int, server, still_writing: bool = False
) -> None:
    first = await _read(client, url, leave_after=drop_after)
    require(
        first.status == 200 and len(first.events) == drop_after,
        f"following the stream again gave {first.status} and {len(first.events)} events.",
    )
    last_id = first.last_id
    rest = await _read(client, url, last_id=last_id)
    where = f"after a drop at event {drop_after} of {len(expected)}{' (while the stream was still being written)' if still_writing else ''}"
    if not last_id:
        require(
            rest.pairs() == expected[drop_after:],
            f"your events carry no `id:`, so {where} the reconnect sent no Last-Event-ID, and it got the events "
            f"{_numbered(rest.pairs(), expected)} (by their place in the stream): the reader got "
            + ("event 1 twice." if drop_after == 1 else f"events 1 to {drop_after} twice."),
        )
    require(
        rest.status == 200 and not rest.hung,
        f"{where}, the reconnect with Last-Event-ID: {last_id} got {rest.outcome()}; the rest of the stream was expected."
        + server_error_hint(server),
    )
    require(
        rest.pairs() == expected[drop_after:],
        f"{where}, the reconnect with Last-Event-ID: {last_id} got the events {_numbered(rest.pairs(), expected)} "
        f"(by their place in the stream); expected {drop_after + 1} to {len(expected)}, each once.",
    )
    ids = [e.id for e in first.events + rest.events]
    require(
        len(set(ids)) == len(ids),
        f"two events of one stream carry the same id: {short(ids, 120)}; a reconnect could not tell where it stopped.",
    )


async def _check_refusals(client, base: str, finished: str, live: str, expected: list, whole, server) -> None:
    done_id = whole.last_id
    after_done = await _read(client, base + finished, last_id=done_id)
    require(
        after_done.status == 204,
        f"a reconnect with the id of `done` ({done_id}) got {after_done.outcome()}; "
        "EventSource reconnects after every end, and only a response that is not a 200 stream stops it (204 says: nothing more).",
    )
    other = (await _read(client, base + live)).events
    foreign = other[4].id
    crossed = await _read(client, base + finished, last_id=foreign)
    require(
        400 <= crossed.status < 500,
        f"a reconnect to one stream with Last-Event-ID {foreign}, the id of another stream's 5th event, got {crossed.outcome()}"
        + (f", the events {_numbered(crossed.pairs(), expected)}" if crossed.status == 200 else "")
        + ": a reader whose ids got mixed up would silently miss events. Its id does not say which stream it belongs to, or the route does not look.",
    )
    for bad, what in (
        (_past_the_end(done_id), "an id past the last event"),
        ("not-an-id", "an id that is not one of yours"),
    ):
        if bad is None:
            continue
        refused = await _read(client, base + finished, last_id=bad)
        require(
            400 <= refused.status < 500,
            f"a reconnect with Last-Event-ID {bad} ({what}) got {refused.outcome()}; bad input gets a 4xx before the stream."
            + server_error_hint(server),
        )
    missing = await _read(client, base + secrets.token_hex(8))
    require(
        missing.status == 404,
        f"GET /streams/<an id that was never created> answered {missing.outcome()}; a 404 tells EventSource to stop for good."
        + server_error_hint(server),
    )


def _past_the_end(done_id: str) -> str | None:
    """The id of `done` with its last number raised by 1000, if it ends in a number."""
    match = re.search(r"(\d+)$", done_id or "")
    return done_id[: match.start()] + str(int(match.group(1)) + 1000) if match else None
