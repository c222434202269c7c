"""Check functions for the notebooks' exercises.

Each raises `NotSolvedYet` (an AssertionError) with a hint while the answer is missing
or wrong, and prints a confirmation when it is right. Solutions are in
notebooks/solutions/, one `%load` away.
"""

from __future__ import annotations

import asyncio
import inspect
import time

from .common import NotSolvedYet
from .sentences import check_sentences
from .decoder import check_events
from .first_token import check_first_token
from .relay_usage import check_relay
from .final_fields import check_final_fields
from .resume_ids import check_resume_ids
from .stops import check_stops
from .products import check_decide, exercise_products
from .second_model import second_model

__all__ = ["NotSolvedYet"]


def _require(condition: bool, hint: str) -> None:
    if not condition:
        raise NotSolvedYet(hint)


def _passed(what: str) -> None:
    print(f"✅ {what}")


async def check_minimal_stream(make_app) -> None:
    """08: a hand-written SSE endpoint, checked for framing, content and pacing."""
    import httpx
    from httpx_sse import aconnect_sse

    from .kernel_server import serve

    server = serve(make_app(), name="exercise-08")
    try:
        async with httpx.AsyncClient(timeout=10) as client:
            response = await client.get(server.url + "/stream")
            _require(response.status_code == 200, f"GET /stream answered {response.status_code}; add the route.")
            _require(response.headers.get("content-type", "").startswith("text/event-stream"), "set media_type='text/event-stream'.")
            start, words, times, done = time.monotonic(), [], [], False
            async with aconnect_sse(client, "GET", server.url + "/stream") as source:
                async for sse in source.aiter_sse():
                    if sse.event == "done":
                        done = True
                    else:
                        words.append(sse.data.strip('"'))
                        times.append(time.monotonic() - start)
    finally:
        server.stop()
    _require(words == ["one", "two", "three", "four"], f"the events carried {words}; expected one word per event.")
    _require(done, "end with an `event: done` that has a data line (without data a browser never dispatches it).")
    _require(times[-1] - times[0] >= 0.25, "the words arrived together: wait 0.1 s before each (await asyncio.sleep).")
    _passed("a correct streaming endpoint, written by hand")

