"""Notebook 08: `with_pings(events, every)`, comment pings while a stream's source is silent.

A proxy with an idle timeout cuts a stream whose model is thinking (notebook 08 measures nginx's
`proxy_read_timeout`). The learner wraps any async source so that a `: ping` comment goes out
whenever `every` seconds pass without an item. The check runs it on a source that goes silent for
1.2 s, as a model does while it calls a tool, and watches three things a casual wrapper gets
wrong: every item once and in order, the source never cancelled while it waits (what
`asyncio.wait_for` does to what it waits for), and the source stopped when the reader leaves (a
model must not go on generating for nobody). Then the same wrapper runs behind a real nginx whose
`proxy_read_timeout` is shorter than the silence, when nginx is installed.
"""

from __future__ import annotations

import asyncio
from contextlib import aclosing

from .common import NotSolvedYet, async_generator, learner_code, passed, require, short

__all__ = ["check_with_pings"]

SILENCE, EVERY = 1.2, 0.2


async def check_with_pings(with_pings) -> None:
    """08 production: comment pings while the source is silent, without losing or cancelling anything."""
    from ..sse import comment

    async_generator(with_pings, "with_pings")
    ping, source_cancelled = comment("ping"), []

    async def thinking_model():
        try:
            yield "first"
            await asyncio.sleep(SILENCE)  # silent, as a model is while it calls a tool
            yield "second"
            yield "third"
        except asyncio.CancelledError:
            source_cancelled.append(True)
            raise

    with learner_code(f"with_pings(source, {EVERY})"):
        async with asyncio.timeout(20), aclosing(with_pings(thinking_model(), EVERY)) as wrapped:
            out = [item async for item in wrapped]
    items = [item for item in out if item != ping]
    require(
        not source_cancelled,
        f"the source was cancelled while it was waiting for its next item: the reader got {short(out, 120)}, "
        "and the source's `second` and `third` were never produced.",
    )
    require(
        items == ["first", "second", "third"],
        f"the items came through as {short(items)}; the source yielded ['first', 'second', 'third'], once each.",
    )
    pings = out[out.index("first") + 1 : out.index("second")].count(ping)  # the silence is between these two
    elsewhere = out.count(ping) - pings
    require(
        pings >= 3,
        f"in a {SILENCE:g} s silence with every={EVERY:g} you sent {pings} ping{'s' if pings != 1 else ''}; one was due after each {EVERY:g} s without an item, about {SILENCE / EVERY:.0f}.",
    )
    require(
        pings <= 10,
        f"{pings} pings in a {SILENCE:g} s silence with every={EVERY:g}: more than one per {EVERY:g} s of silence.",
    )
    require(
        elsewhere <= 1,  # one spare, for a loop that a busy machine delays
        f"the reader got {short(out, 160)}: {elsewhere} pings where the source was not silent (`second` and `third` came at once, then the end).",
    )
    await _check_leaving(with_pings, ping)
    passed(
        f"{pings} pings kept a silent stream alive, every item came through, and the source stopped when the reader left"
    )
    await _pings_through_nginx(with_pings)


async def _check_leaving(with_pings, ping: str) -> None:
    """The reader takes the first item and a ping, then leaves: the source must stop, not wait on."""
    source_ended = asyncio.Event()

    async def long_answer():
        try:
            yield "first"
            await asyncio.sleep(30)  # still thinking when the reader leaves
            yield "never read"
        finally:
            source_ended.set()

    with learner_code(f"with_pings(source, {EVERY}), closed by a reader that left"):
        async with asyncio.timeout(10):
            wrapped = with_pings(long_answer(), EVERY)
            seen = [await anext(wrapped), await anext(wrapped)]
            # what a server does to the response's generator when the client disconnects
            await wrapped.aclose()
    require(
        seen[0] == "first" and seen[1] == ping,
        f"the reader got {short(seen)} first; expected 'first', then a ping during the silence.",
    )
    try:
        await asyncio.wait_for(source_ended.wait(), 2)
    except TimeoutError:
        raise NotSolvedYet(
            "the reader left (the wrapper was closed after the first ping), and 2 s later the source was still waiting "
            "for its next item: a model behind it would go on generating for nobody."
        ) from None


async def _pings_through_nginx(with_pings) -> None:
    """The same generator behind nginx with a short proxy_read_timeout: the stream must survive the silence."""
    from fastapi import FastAPI
    from fastapi.responses import StreamingResponse

    from ..kernel_server import serve
    from ..nginx_proxy import nginx_missing, start_proxy
    from ..proxy_lab import event_arrivals
    from ..sse import encode

    if (missing := nginx_missing()) is not None:
        print(missing)
        return
    app = FastAPI()

    @app.get("/tokens")
    async def tokens():
        async def events():
            yield encode("{}", event="token")
            await asyncio.sleep(1.0)
            yield encode("{}", event="token")
            yield encode("{}", event="done")

        return StreamingResponse(
            with_pings(events(), 0.2), media_type="text/event-stream", headers={"X-Accel-Buffering": "no"}
        )

    with (
        serve(app, name="exercise-08-pings") as server,
        start_proxy(server.port, name="exercise-08-nginx", read_timeout=0.5) as proxy,
    ):
        result = await event_arrivals(proxy.url + "/tokens")
    require(
        result.complete,
        f"behind nginx with proxy_read_timeout 0.5 s, a source silent for 1 s broke the stream ({result.error}).",
    )
    passed("behind nginx with proxy_read_timeout 0.5 s, a 1 s silence did not cut the stream")
