"""Check functions for the notebooks' exercises.

Each raises `NotSolvedYet` (an AssertionError) with a hint while the answer is missing
or wrong, and prints a confirmation when it is right. Solutions are in
notebooks/solutions/, one `%load` away.
"""

from __future__ import annotations

import asyncio
import inspect
import time

__all__ = ["NotSolvedYet"]


class NotSolvedYet(AssertionError):
    pass


def _require(condition: bool, hint: str) -> None:
    if not condition:
        raise NotSolvedYet(hint)


def _passed(what: str) -> None:
    print(f"✅ {what}")


async def check_countdown(countdown) -> None:
    """01: `countdown(n, delay)` is an async generator yielding n..1, lazily."""
    _require(inspect.isasyncgenfunction(countdown), "countdown must be an async generator function: `async def` with `yield` inside.")
    start = time.monotonic()
    stream = countdown(3, 0.05)
    first = await anext(stream)
    first_at = time.monotonic() - start
    rest = [value async for value in stream]
    total = time.monotonic() - start
    _require([first, *rest] == [3, 2, 1], f"countdown(3, ...) should yield 3, 2, 1; it yielded {[first, *rest]}.")
    _require(total >= 0.12, "wait `await asyncio.sleep(delay)` before each value.")
    _require(first_at < total * 0.6, "yield each value as soon as it is ready, not all at the end.")
    _passed("countdown is lazy and asynchronous")


def check_frame(frame) -> None:
    """02: `frame(text, event)` must survive every kind of line break."""
    from .sse import Event, parse

    for text in ["hello", "two\nlines", "crlf\r\nline", "old mac\rline", "", "trailing\n", "你好\n世界"]:
        got = parse(frame(text, "token"))
        expected_text = text.replace("\r\n", "\n").replace("\r", "\n")
        _require(got == [Event(expected_text, "token")], f"frame({text!r}, 'token') reaches the browser as {got}; expected one 'token' event with data {expected_text!r}.")
    _passed("every line break survives the trip")


async def check_first_byte(first_byte_and_total) -> None:
    """03: measure time to first chunk and total time of a slow stream."""
    from fastapi import FastAPI
    from fastapi.responses import StreamingResponse

    from .kernel_server import serve

    app = FastAPI()

    @app.get("/slow")
    async def slow():
        async def chunks():
            for i in range(5):
                await asyncio.sleep(0.1)
                yield f"chunk {i}\n"

        return StreamingResponse(chunks(), media_type="text/plain")

    server = serve(app, name="exercise-03")
    try:
        result = first_byte_and_total(server.url + "/slow")
        _require(inspect.isawaitable(result), "first_byte_and_total must be an async function (`async def`).")
        result = await result
        _require(isinstance(result, tuple) and len(result) == 2, f"return a tuple (first, total); got {result!r}.")
        first, total = result
        _require(0.05 <= first <= 0.4, f"the first chunk comes after about 0.1 s; you measured {first}. Time `aiter_raw()`, not the whole request.")
        _require(total >= 0.45, f"the whole stream takes about 0.5 s; you measured {total}.")
        _require(first < total / 2, "the first chunk must arrive well before the end: read the body chunk by chunk.")
    finally:
        server.stop()
    _passed(f"first chunk after {first:.2f} s, end after {total:.2f} s")


async def check_collect_tokens(collect_tokens, url: str) -> None:
    """04: the token events' text, which must equal the done event's text."""
    import json

    import httpx
    from httpx_sse import aconnect_sse

    prompt = "What is SSE?"
    result = collect_tokens(url, prompt)
    _require(inspect.isawaitable(result), "collect_tokens must be an async function (`async def`).")
    got = await result
    async with httpx.AsyncClient(timeout=60) as client:
        created = await client.post(f"{url}/streams", json={"prompt": prompt})
        async with aconnect_sse(client, "GET", url + created.json()["url"]) as source:
            done = [json.loads(sse.data) async for sse in source.aiter_sse() if sse.event == "done"][-1]
    _require(isinstance(got, str), f"return the text as a str; got {type(got).__name__}.")
    _require(got == done["text"], f"expected {done['text'][:60]!r}…, got {got[:60]!r}…: create the stream with POST, follow its url, keep only `token` events, and json.loads each data.")
    _passed(f"collected {len(got)} characters, equal to the done event's text")


async def check_resume_text(resume_text, url: str) -> None:
    """06: drop after some tokens, resume with Last-Event-ID, every token exactly once."""
    from .embedded_model import reply_for

    prompt = "What is SSE?"
    result = resume_text(url, prompt, 4)
    _require(inspect.isawaitable(result), "resume_text must be an async function (`async def`).")
    got = await result
    full = "".join(reply_for(prompt))
    _require(isinstance(got, str), f"return the text as a str; got {type(got).__name__}.")
    _require(got == full, f"expected the whole answer {full[:40]!r}…; got {got[:80]!r}… (a token missing or repeated? resume the same stream with the last id you saw).")
    _passed("resumed without a gap or a repeat")


async def check_stop_after(stop_after, url: str) -> None:
    """06: a WebSocket client that stops the stream after n tokens."""
    result = stop_after(url, "What is SSE?", 4)
    _require(inspect.isawaitable(result), "stop_after must be an async function (`async def`).")
    done = await result
    _require(isinstance(done, dict) and done.get("type") == "done", f"return the final message as a dict with type 'done'; got {done!r}.")
    _require(done.get("stopped") is True, "the server did not see your stop: send {\"action\": \"stop\"} on the same socket.")
    _require(done.get("tokens") in (4, 5), f"stop after 4 tokens; the server sent {done.get('tokens')}.")
    _passed(f"stopped after {done['tokens']} tokens")


def check_should_stream(should_stream) -> None:
    """07: stream when the saved wait is at least 1 s and the whole result is not needed."""
    cases = [((500, 50, False), True), ((20, 50, False), False), ((500, 50, True), False), ((50, 50, False), True), ((49, 50, False), False), ((5, 200, False), False)]
    for args, expected in cases:
        got = should_stream(*args)
        _require(got is expected, f"should_stream{args} should be {expected}; got {got!r}.")
    _passed("your rule matches the measured one")


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


async def check_final_fields(final_fields) -> None:
    """05: yield each top-level field of streamed JSON once, as soon as it is final."""
    _require(inspect.isasyncgenfunction(final_fields), "final_fields must be an async generator function: `async def` with `yield` inside.")
    title, steps = "Stream stops after the first token", ["Open the page", "Send a long prompt"]
    partials = [
        {}, {"title": ""}, {"title": "Stream"}, {"title": "Stream stops"}, {"title": title},
        {"title": title, "priority": ""}, {"title": title, "priority": "urgent"},
        {"title": title, "priority": "urgent", "steps": []}, {"title": title, "priority": "urgent", "steps": ["Open"]},
        {"title": title, "priority": "urgent", "steps": ["Open the page"]}, {"title": title, "priority": "urgent", "steps": steps},
    ]
    final, arrived = partials[-1], 0
    due = {"title": 6, "priority": 8, "steps": len(partials)}  # partials seen when each field became final

    async def stream():
        nonlocal arrived
        for partial in partials:
            arrived += 1
            yield partial

    seen: dict = {}
    async for item in final_fields(stream()):
        _require(isinstance(item, tuple) and len(item) == 2, f"yield (field, value) pairs; got {item!r}.")
        field, value = item
        _require(field not in seen, f"you yielded {field!r} twice: yield each field once, when it is final.")
        _require(
            value == final.get(field),
            f"you yielded {field}={value!r}, but it grew to {final.get(field)!r}: a partial value is only what has arrived so far. "
            "JSON keys arrive in order, so a field is final once the next field has appeared, or the stream has ended.",
        )
        _require(
            arrived <= due[field],
            f"{field!r} was final after partial {due[field]} of {len(partials)}, but you yielded it only after partial {arrived}: "
            "yield each field as soon as the next one starts, so the app can act early.",
        )
        seen[field] = value
    _require(bool(seen), "nothing was yielded: the object had three fields, and each one became final at some point.")
    missing = [f for f in final if f not in seen]
    _require(not missing, f"never yielded: {missing}. The last field is final when the stream ends, after the last partial object.")

    import json

    from langchain_core.output_parsers import JsonOutputParser

    from .embedded_model import chat_model

    schema = {"type": "object", "properties": {"title": {"type": "string"}, "priority": {"enum": ["low", "urgent"]}, "steps": {"type": "array", "items": {"type": "string"}}}}
    chain = chat_model(quiet=True, offline=True).bind(response_format={"type": "json_object"}) | JsonOutputParser()
    last: dict = {}

    async def live_stream():
        nonlocal last
        async for partial in chain.astream(f"An urgent ticket, in JSON with this schema: {json.dumps(schema)}"):
            last = partial
            yield partial

    live = [item async for item in final_fields(live_stream())]
    _require(dict(live) == last and len(live) == len(last), f"on a stream from the model you yielded {live!r}; its final object was {last!r}.")
    _passed(f"each field yielded once, as soon as it was final ({len(seen)} fields here, {len(live)} on a live stream from the model)")
