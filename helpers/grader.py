"""The capstone's grader: behavioural checks against the streaming service in a folder, one line each.

    await grade("capstone")           run every check, print one line per check, return the results
    await check_capstone("capstone")  the notebook's check: grade, then NotSolvedYet unless all pass

What it does, each run:
1. imports the folder's `app.py` fresh (`helpers.capstone.load_service`), with the source's
   `ChatOpenAI()` pointed at the course's model, whose faults the grader switches on per check
   (`CourseModel.using`): the service's own code never asks for a fault;
2. serves the app in the kernel (`helpers.kernel_server.serve`), behind a recorder of every
   request line, which is what an access log keeps;
3. talks to it over real HTTP the way a browser's `EventSource` does: its request headers, its
   reconnection with `Last-Event-ID`, and the spec's decoder (`helpers.sse.Decoder`, which the
   browser tests show to match Chromium) to turn bytes into events.
So it runs offline, on Binder, and without a browser.

The target is the relay's contract (notebooks 04 and 06): POST /streams creates a stream and
answers 201 {id, url} with a Location; GET on that url follows it as text/event-stream, every
event with an `id:`; `Last-Event-ID` resumes; 204 once `done` was delivered; 404 for an unknown
stream; POST <url>/stop ends it; failures are `stream_error` events with a `code` and a
`request_id`. A service that has no POST /streams yet is graded through the route that reads a
prompt from its URL (the source's `POST /chat-stream?message=`), so that every line reports the
fault it names, not just a missing route.

Every check catches everything: a check that cannot run is a failed line, never a traceback.
"""

from __future__ import annotations

import asyncio
import json
import logging
import re
import secrets
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import quote

import httpx

from . import kernel_server
from .capstone import CourseModel, ServiceError, course_model, load_service, service_folder
from .exercises import NotSolvedYet
from .sse import Decoder, Event

__all__ = ["Result", "CHECKS", "grade", "check_capstone", "FORBIDDEN_IMPORTS"]

# The course's own relay is the answer, so a service built on it is not graded. Everything else
# in helpers may be reused (the stream store, helpers.sse), and so may any package.
FORBIDDEN_IMPORTS = ("helpers.chat_app", "helpers.pitfalls", "helpers.replicas")
EVENTSOURCE_HEADERS = {"Accept": "text/event-stream", "Cache-Control": "no-cache"}  # what EventSource sends
FAST = {"first_token_delay": 0.02, "token_delay": 0.005}  # the model's pace unless a check needs another
CHECK_TIMEOUT = 25.0  # seconds for one check; a hung service fails that check, not the whole run
NEVER_ASKED = "the model was never asked: keep creating the model with ChatOpenAI(...) when app.py is imported, and send it the prompt"
PROMPT_NAMES = ("message", "prompt", "q", "query", "question", "text", "input", "content")
LONG_CHINESE = "请解释流式输出。" * 625  # 5,000 characters
# APIError, Error code: 500
EXCEPTION_NAME = re.compile(r"\b[A-Z][A-Za-z]*(?:Error|Exception)\b|Traceback|Error code: \d+")


@dataclass
class Result:
    check: str
    title: str
    passed: bool
    observed: str

    def line(self) -> str:
        return f"{'✅' if self.passed else '❌'} {self.title}: {self.observed}"


class CheckFailed(Exception):
    """Raised inside a check: the message is the observation."""


def _fail(observed: str):
    raise CheckFailed(observed)


# ---------------------------------------------------------------- talking to the service


class _Recorder:
    """ASGI middleware: every request line the service receives (method and target), as an access log has them."""

    def __init__(self, app) -> None:
        self.app, self.lines = app, []

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] == "http":
            query = scope.get("query_string", b"").decode("latin-1")
            self.lines.append(
                f"{scope['method']} {scope.get('raw_path', scope['path'].encode()).decode('latin-1')}"
                + (f"?{query}" if query else "")
            )
        await self.app(scope, receive, send)


@dataclass
class Read:
    """What one connection delivered: status, media type, the events, and how it ended."""

    status: int
    media_type: str
    events: list[Event] = field(default_factory=list)
    ending: str = "end"  # end: the server finished; cut: the connection broke; left: the grader left
    body: bytes = b""

    @property
    def streamed(self) -> bool:
        return self.media_type == "text/event-stream"

    def texts(self) -> list[str]:
        return [text for text in map(text_of, self.events) if text is not None]


def text_of(event: Event) -> str | None:
    """The answer text an event carries: a `token` {"text"} (the contract), a `message` {"type": "content", "data"}
    (the source), or a `message` whose data is not JSON (the source's `data: 内容`), taken as it stands."""
    if event.type not in ("token", "message"):
        return None
    try:
        data = json.loads(event.data)
    except ValueError:
        return event.data
    if isinstance(data, dict):
        for key in ("text", "data", "content"):
            if isinstance(data.get(key), str):
                return data[key] if key != "data" or data.get("type") in (None, "content") else None
        return None
    return data if isinstance(data, str) else None


def _json(text: str):
    try:
        return json.loads(text)
    except ValueError:
        return None


def _short(text: str, limit: int = 70) -> str:
    text = text if isinstance(text, str) else json.dumps(text, ensure_ascii=False)
    return text if len(text) <= limit else text[: limit - 1] + "…"


@dataclass
class Started:
    """A stream the grader started: how to follow it, and what it looked like."""

    method: str
    url: str
    params: dict | None
    via: str  # for the messages: "POST /streams, then GET /streams/{id}" or "POST /chat-stream?message=…"
    stream_url: str | None = None  # the contract's url, when it has one


class Service:
    """The learner's app, served, with the model and the request log the checks look at."""

    def __init__(
        self,
        folder: Path,
        module,
        model: CourseModel,
        client: httpx.AsyncClient,
        name: str = "capstone-grader",
    ) -> None:
        self.folder, self.module, self.model, self.client = folder, module, model, client
        self.recorder = _Recorder(module.app)
        self.handle = kernel_server.serve(self.recorder, name=name)
        self.url = self.handle.url
        self.contract = _matches(module.app, "POST", "/streams")
        self.url_route = None if self.contract else _prompt_route(module.app)

    def stop(self) -> None:
        self.handle.stop()

    def records(self, since: int, prompt: str) -> list:
        """The model's request records made after the `since`-th, for `prompt`."""
        return [r for r in list(self.model.requests)[since:] if prompt in r.prompt]

    def asked(self, since: int, prompt: str) -> list:
        """Those records; a failed check if there are none (then nothing the stream said came from the model)."""
        records = self.records(since, prompt)
        if not records:
            _fail(NEVER_ASKED)
        return records

    async def start(self, prompt: str, *, base: str | None = None) -> Started:
        base = base or self.url
        if self.contract:
            response = await self.client.post(f"{base}/streams", json={"prompt": prompt})
            body = (
                _json(response.text)
                if response.headers.get("content-type", "").startswith("application/json")
                else None
            )
            if (
                response.status_code != 201
                or not isinstance(body, dict)
                or not isinstance(body.get("url"), str)
            ):
                _fail(
                    f"POST /streams answered {response.status_code} {_short(response.text, 60)!r}, not 201 with {{id, url}}"
                )
            return Started("GET", base + body["url"], None, "POST /streams, then GET its url", body["url"])
        if self.url_route:
            method, path, param = self.url_route
            return Started(method, base + path, {param: prompt}, f"{method} {path}?{param}=…")
        _fail("no way to start a stream: there is no POST /streams, and no route reads a prompt from its URL")

    async def read(
        self,
        started: Started,
        *,
        tokens: int | None = None,
        headers: dict | None = None,
        timeout: float = 20.0,
        after_tokens=None,
    ) -> Read:
        """Follow `started` as EventSource would; leave after `tokens` text events if given.

        `after_tokens(read)` runs once when that many arrived, and reading goes on (a restart's test).
        """
        return await read_stream(
            self.client,
            started.method,
            started.url,
            params=started.params,
            headers=headers,
            tokens=tokens,
            timeout=timeout,
            after_tokens=after_tokens,
        )


async def read_stream(
    client, method, url, *, params=None, headers=None, tokens=None, timeout=20.0, after_tokens=None
) -> Read:
    decoder, read = Decoder(), None
    async with asyncio.timeout(timeout):
        try:
            async with client.stream(
                method, url, params=params, headers={**EVENTSOURCE_HEADERS, **(headers or {})}
            ) as response:
                read = Read(
                    response.status_code, response.headers.get("content-type", "").split(";")[0].strip()
                )
                if not read.streamed or response.status_code != 200:
                    read.body = await response.aread()
                    return read
                triggered = False
                async for chunk in response.aiter_raw():
                    read.events += decoder.feed(chunk)
                    count = len(read.texts())
                    if tokens is not None and count >= tokens:
                        if after_tokens is None:
                            read.ending = "left"  # closing the response here drops the connection
                            return read
                        if not triggered:
                            triggered = True
                            await after_tokens(read)
                return read
        except (httpx.RemoteProtocolError, httpx.ReadError) as cut:
            if read is None:
                raise CheckFailed(
                    f"{method} {_path(url)}: the connection broke before a response ({type(cut).__name__})"
                ) from None
            read.ending = "cut"
            return read


def _matches(app, method: str, path: str) -> bool:
    from starlette.routing import Match

    scope = {"type": "http", "method": method, "path": path, "root_path": ""}
    return any(route.matches(scope)[0] == Match.FULL for route in getattr(app, "routes", []))


def _prompt_route(app) -> tuple[str, str, str] | None:
    """(method, path, query parameter) of a route that reads a prompt from the URL's query, if any."""
    for route in getattr(app, "routes", []):
        dependant = getattr(route, "dependant", None)
        if dependant is None or "{" in route.path:
            continue
        names = [getattr(p, "alias", None) or p.name for p in dependant.query_params]
        for name in PROMPT_NAMES:
            if name in names:
                method = "POST" if "POST" in route.methods else sorted(route.methods)[0]
                return method, route.path, name
    return None


def _path(url: str) -> str:
    """The path of a URL the grader built (no scheme, host or port: those change every run)."""
    return "/" + url.split("://", 1)[-1].split("/", 1)[-1] if "://" in url else url


# ---------------------------------------------------------------- the checks


async def check_framing(svc: Service) -> str:
    """Tokens with line breaks in them (\\n, \\n\\n, \\r\\n, \\r) must reach the decoder exactly."""
    prompt, since = "What is SSE? (framing)", len(svc.model.requests)
    with svc.model.using(line_breaks=True, tokens=25, **FAST):
        started = await svc.start(prompt)
        read = await svc.read(started)
    if read.status != 200 or not read.streamed:
        _fail(f"{started.via} answered {read.status} {read.media_type or 'with no media type'}, not a stream")
    records = svc.asked(since, prompt)
    expected, got = svc.model.text_of(records[-1]), "".join(read.texts())
    if got != expected:
        at = next((i for i, (a, b) in enumerate(zip(expected, got)) if a != b), min(len(expected), len(got)))
        _fail(
            f"the text differs from the model's at character {at}: the model sent {_short(expected[max(0, at - 8) : at + 12])!r}, "
            f"the events carried {_short(got[max(0, at - 8) : at + 12])!r} (a line break inside a data: field ends it; an empty line ends the event)"
        )
    breaks = sum(1 for piece in svc.model.sent.get(records[-1].id, []) if "\n" in piece or "\r" in piece)
    return (
        f"{len(read.texts())} tokens, {breaks} with line breaks (\\n, \\n\\n, \\r\\n, \\r), arrived exactly"
    )


async def check_error_event(svc: Service) -> str:
    """A failure mid-stream must not be an event named `error`: that is EventSource's own connection event."""
    prompt, since = "What is SSE? (failure)", len(svc.model.requests)
    with svc.model.using(fault="error_after", fault_at=4, **FAST):
        read = await svc.read(await svc.start(prompt))
    svc.asked(since, prompt)
    named_error = [e for e in read.events if e.type == "error"]
    if named_error:
        _fail(
            f"the model's failure arrived as `event: error` ({_short(named_error[0].data, 60)}): EventSource fires its own `error` "
            "on the same listeners when the connection drops or closes, with no data, so the page cannot tell them apart"
        )
    stream_errors = [e for e in read.events if e.type == "stream_error"]
    if not stream_errors:
        _fail(
            f"the model failed after 4 tokens and no `stream_error` event came (events: {_kinds(read.events)})"
        )
    return "the model's failure arrived as `stream_error`; `error` is left to the connection"


def _kinds(events: list[Event]) -> str:
    kinds: list[list] = []
    for event in events:
        if kinds and kinds[-1][0] == event.type:
            kinds[-1][1] += 1
        else:
            kinds.append([event.type, 1])
    return ", ".join(f"{kind}×{n}" if n > 1 else kind for kind, n in kinds) or "none"


# a literal URL, not an expression
PAGE_EVENTSOURCE = re.compile(r"""new\s+EventSource\(\s*(['"`])([^'"`$]+)\1\s*[,)]""")


async def check_post_route(svc: Service) -> str:
    """EventSource can only GET: the URL it opens must answer GET with text/event-stream."""
    page = await svc.client.get(svc.url + "/")
    literal = PAGE_EVENTSOURCE.findall(page.text) if page.status_code == 200 else []
    for _, target in literal:
        path = "/" + target.lstrip("./")
        read = await read_stream(svc.client, "GET", svc.url + path, tokens=1, timeout=10)
        if read.status != 200 or not read.streamed:
            reason = {405: " (Method Not Allowed)", 404: " (Not Found)"}.get(read.status, "")
            _fail(
                f"the page opens `new EventSource({target!r})`, and GET {path} answers {read.status}{reason}: "
                "EventSource sends GET only, and it never retries after such an answer"
            )
    if not svc.contract:
        _fail("there is no POST /streams: a stream must be created with a POST, then followed with a GET")
    created = await svc.client.post(svc.url + "/streams", json={"prompt": "What is SSE? (routes)"})
    body = _json(created.text)
    if created.status_code != 201 or not isinstance(body, dict) or not {"id", "url"} <= set(body):
        _fail(
            f"POST /streams answered {created.status_code} {_short(created.text, 60)!r}, not 201 with {{id, url}}"
        )
    if created.headers.get("location") != body["url"]:
        _fail(
            f"POST /streams answered 201 with url {body['url']!r} but Location {created.headers.get('location')!r}"
        )
    read = await read_stream(svc.client, "GET", svc.url + body["url"], tokens=1, timeout=10)
    if read.status != 200 or not read.streamed:
        _fail(f"GET on the created url answers {read.status} {read.media_type}, not 200 text/event-stream")
    return "POST /streams answered 201 {id, url} with Location, and EventSource's GET on that url streams"


async def check_final_event(svc: Service) -> str:
    """A server that stops mid-answer (a deploy) must not send a `done` that says the answer is complete."""
    prompt, since = "What is SSE? (restart)", len(svc.model.requests)
    try:
        module = load_service(svc.folder, model=svc.model, offline=True)
        restarting = kernel_server.serve(module.app, name="capstone-grader-restart")
    except (ServiceError, kernel_server.ServerStartError) as exc:
        _fail(f"a second copy of the service did not start: {exc}")
    stopping = None

    async def shut_down(_read) -> None:
        nonlocal stopping
        stopping = asyncio.ensure_future(asyncio.to_thread(restarting.stop))  # uvicorn's graceful shutdown

    try:
        with svc.model.using(tokens=400, first_token_delay=0.02, token_delay=0.03):
            started = await svc.start(prompt, base=restarting.url)
            read = await svc.read(started, tokens=5, after_tokens=shut_down, timeout=15)
    finally:
        if stopping is not None:
            await stopping
        restarting.stop()
    svc.asked(since, prompt)
    if stopping is None:
        _fail(f"the stream ended before 5 tokens: {_kinds(read.events)}")
    done = [e for e in read.events if e.type == "done"]
    if done:
        data = _json(done[-1].data)
        reason = data.get("reason") if isinstance(data, dict) else None
        if reason in (None, "complete") or (isinstance(data, dict) and data.get("complete") is True):
            _fail(
                f"the server began a graceful shutdown after 5 tokens, as a deploy does, and `done` still arrived ({_short(done[-1].data, 60)}): "
                "a final event sent on every exit, as from `finally`, tells the page a cut answer is complete"
            )
        return f"the server stopped after 5 tokens and `done` said why: reason {reason!r}"
    return "the server stopped after 5 tokens and no `done` claimed the cut answer was complete: the connection just ended"


async def check_resume(svc: Service) -> str:
    """Every event has an `id:`; Last-Event-ID resumes exactly; 204 once done; 404 for an unknown stream."""
    prompt, since = "What is SSE? (resume)", len(svc.model.requests)
    with svc.model.using(tokens=40, first_token_delay=0.02, token_delay=0.02):
        started = await svc.start(prompt)
        first = await svc.read(started, tokens=5)
        if first.status != 200 or not first.streamed:
            _fail(f"{started.via} answered {first.status} {first.media_type}")
        if not any(e.id for e in first.events):
            again = await svc.read(started, tokens=1)
            generations = len(svc.records(since, prompt))
            restarted = generations > 1 and again.texts()[:1] == first.texts()[:1]
            _fail(
                "no event carries an `id:`, so after a drop EventSource reconnects without Last-Event-ID; reconnecting here "
                + (
                    "made the model start the answer again from its first token"
                    if restarted
                    else f"gave {again.status} {_kinds(again.events)}"
                )
                + f" ({generations} generations for one answer)"
            )
        if not all(e.id for e in first.events):
            _fail(
                f"{sum(not e.id for e in first.events)} of the first {len(first.events)} events carry no `id:`"
            )
        last_id = first.events[-1].id
        rest = await svc.read(started, headers={"Last-Event-ID": last_id})
    if rest.status != 200:
        _fail(
            f"reconnecting with Last-Event-ID answered {rest.status} {_short(rest.body.decode(errors='replace'), 50)!r}"
        )
    seen = [e.id for e in first.events + rest.events]
    if len(seen) != len(set(seen)):
        _fail(
            f"after Last-Event-ID {last_id!r} the server sent events the client already had (ids {_short(', '.join(seen), 60)})"
        )
    records = svc.asked(since, prompt)
    if len(records) != 1:
        _fail(f"resuming asked the model again ({len(records)} generations for one answer)")
    text = "".join(first.texts() + rest.texts())
    if text != svc.model.text_of(records[0]):
        _fail(f"the text before and after the resume is not the model's: {_short(text, 50)!r}")
    if not rest.events or rest.events[-1].type != "done":
        _fail(f"the resumed stream did not end with `done` ({_kinds(rest.events)})")
    if started.stream_url is None:
        _fail(
            f"the events have ids, but {started.via} starts a new answer on every request: there is no stream to come back to"
        )
    finished = await read_stream(
        svc.client, "GET", started.url, headers={"Last-Event-ID": rest.events[-1].id}, timeout=10
    )
    if finished.status != 204:
        _fail(
            f"a reconnect after `done` answered {finished.status}, not 204: EventSource would start over, forever"
        )
    stream_id = started.stream_url.rstrip("/").rsplit("/", 1)[-1]
    unknown_url = (
        started.url[: len(started.url) - len(stream_id)]
        + secrets.token_hex(max(1, len(stream_id) // 2))[: len(stream_id)]
    )
    unknown = await read_stream(svc.client, "GET", unknown_url, timeout=10)
    if unknown.status != 404:
        _fail(f"an unknown stream answered {unknown.status}, not 404: EventSource must fail once and stop")
    return "every event has an id; Last-Event-ID resumed with no loss and no repeat; 204 after done; 404 for an unknown stream"


async def check_stop(svc: Service) -> str:
    """A dropped connection does not stop a resumable stream, so a stop must: POST <url>/stop cancels the model."""
    prompt, since = "What is SSE? (stop)", len(svc.model.requests)
    if not svc.contract:
        _fail(
            "nothing outlives a connection here, so dropping it is the only way to stop the model, and it also throws the answer away; "
            "there is no stream to stop with a request (no POST /streams)"
        )
    with svc.model.using(tokens=3000, first_token_delay=0.02, token_delay=0.01):
        started = await svc.start(prompt)
        await svc.read(started, tokens=3)
        await asyncio.sleep(0.3)
        record = svc.asked(since, prompt)[-1]
        if record.status == "cancelled":
            _fail(
                "dropping the connection after 3 tokens cancelled the model: a reload or a reconnect finds the answer gone"
            )
        stop = await svc.client.post(started.url + "/stop")
        if stop.status_code >= 300:
            _fail(f"POST {started.stream_url}/stop answered {stop.status_code}")
        deadline = time.monotonic() + 10
        while record.status == "running" and time.monotonic() < deadline:
            await asyncio.sleep(0.05)
    if record.status != "cancelled":
        _fail(
            f"after POST …/stop the model went on: its request ended {record.status!r} with {record.tokens_sent} tokens"
            if record.status != "running"
            else "10 seconds after POST …/stop the model was still generating"
        )
    after = await svc.read(started, timeout=10)
    done = [_json(e.data) for e in after.events if e.type == "done"]
    if not done or not isinstance(done[-1], dict) or done[-1].get("reason") != "stopped":
        _fail(f'the stopped stream did not end with `done` {{"reason": "stopped"}} ({_kinds(after.events)})')
    return "a dropped connection left the answer running for the reconnect; POST …/stop cancelled the model and ended with done {reason: stopped}"


async def check_validation(svc: Service) -> str:
    """Bad input gets a 4xx before any byte of a stream, and the model is never called."""
    before = len(svc.model.requests)
    failures, passes = [], []
    if svc.contract:
        cases = [
            ("no prompt", {"json": {}}, {422}),
            ("an empty prompt", {"json": {"prompt": ""}}, {422}),
            ("a blank prompt", {"json": {"prompt": "   "}}, {422}),
            ("a form instead of JSON", {"data": {"prompt": "hi"}}, {415, 422}),
            ("a prompt of 100,000 characters", {"json": {"prompt": "x" * 100_000}}, {413}),
        ]
        for what, body, expected in cases:
            async with svc.client.stream("POST", svc.url + "/streams", **body) as response:
                status = response.status_code
            (passes if status in expected else failures).append(
                f"{what} got {status}"
                + ("" if status in expected else f" (expected {'/'.join(map(str, sorted(expected)))})")
            )
    elif svc.url_route:
        method, path, param = svc.url_route
        for what, value in [("an empty prompt", ""), ("a blank prompt", "   ")]:
            read = await read_stream(
                svc.client, method, f"{svc.url}{path}", params={param: value}, tokens=1, timeout=10
            )
            if read.status < 400:
                failures.append(
                    f"{what} ({method} {path}?{param}={quote(value)}) got {read.status} {read.media_type}"
                )
    else:
        _fail("no way to start a stream: there is no POST /streams, and no route reads a prompt from its URL")
    await asyncio.sleep(0.2)
    asked = len(svc.model.requests) - before
    if failures:
        _fail(
            "; ".join(failures)
            + (f", and the model was asked {asked} time{'s' * (asked != 1)}" if asked else "")
            + ": once a stream has started, the status is 200 for good and a complaint can only be an event"
        )
    if asked:
        _fail(f"every bad input got its 4xx, but the model was asked {asked} time{'s' * (asked != 1)}")
    return "; ".join(passes) + ": each before any stream, and the model was never called"


async def check_prompt_in_url(svc: Service) -> str:
    """The prompt travels in a request body, never in a URL (access logs keep URLs; proxies cap them)."""
    start, since = len(svc.recorder.lines), len(svc.model.requests)
    started = await svc.start(LONG_CHINESE)
    read = await svc.read(started, timeout=20)
    lines = svc.recorder.lines[start:]
    encoded = quote(LONG_CHINESE[:20])
    carrying = [line for line in lines if encoded in line or LONG_CHINESE[:20] in line]
    if carrying:
        line = carrying[0]
        size = len(line.encode())
        _fail(
            f"the prompt travelled in the URL: {_short(line, 40)!r}; a 5,000-character Chinese prompt made a {size:,}-byte request line, "
            "and every access log keeps it"
        )
    svc.asked(since, LONG_CHINESE)
    if read.status != 200 or not read.texts():
        _fail(f"a 5,000-character Chinese prompt did not stream: {read.status} {_kinds(read.events)}")
    return f"a 5,000-character Chinese prompt went in the body; the request lines were {', '.join(sorted({_describe(line) for line in lines}))}"


def _describe(line: str) -> str:
    method, _, target = line.partition(" ")
    return f"{method} {re.sub(r'[0-9a-f]{8,}|[0-9a-fA-F-]{36}', '{id}', target)}"


async def check_leaks(svc: Service) -> str:
    """Error events carry a code and a request id, and nothing of the exception's text."""
    observed = []
    for fault, where in [("server_error", "before answering"), ("error_after", "mid-answer")]:
        prompt, since = f"What is SSE? (leak {fault})", len(svc.model.requests)
        with svc.model.using(fault=fault, fault_at=3, **FAST):
            read = await svc.read(await svc.start(prompt))
        svc.asked(since, prompt)
        errors = [
            e
            for e in read.events
            if e.type in ("stream_error", "error")
            or (isinstance(_json(e.data), dict) and _json(e.data).get("type") == "error")
        ]
        if not errors:
            _fail(f"the model failed {where} and no error event came ({_kinds(read.events)})")
        upstream = set(svc.model.errors)  # every error message the model has sent: none may reach a user
        for event in errors:
            leaked = EXCEPTION_NAME.findall(event.data) + [
                text for text in upstream if text and text in event.data
            ]
            leaked += [host for host in ("127.0.0.1", "/v1/") if host in event.data]
            data = _json(event.data)
            missing = [
                key
                for key in ("code", "request_id")
                if not (isinstance(data, dict) and isinstance(data.get(key), str) and data[key])
            ]
            if leaked:
                shown = (
                    data["message"]
                    if isinstance(data, dict) and isinstance(data.get("message"), str)
                    else event.data
                )
                _fail(
                    f"when the model failed {where}, the error event said {_short(shown, 70)!r}: the exception's own text "
                    f"({_short(leaked[0], 40)!r} comes from the model's client, not from this service), written for developers; "
                    "internals belong in the server log"
                    + (f", and the event has no {' or '.join(missing)} to find them there" if missing else "")
                )
            if missing:
                _fail(
                    f"when the model failed {where}, the error event had no {' or '.join(missing)}: {_short(event.data, 80)}"
                )
            observed.append(data["code"])
    return f"the error events carried codes ({', '.join(dict.fromkeys(observed))}) and request ids, and nothing of the exceptions' text"


CHECKS: tuple[tuple[str, str, Callable[[Service], Awaitable[str]]], ...] = (
    ("framing", "multi-line data framing", check_framing),
    ("error-event", "the `error` event collision", check_error_event),
    ("post-route", "EventSource on a POST route", check_post_route),
    ("final-event", "the final event in `finally`", check_final_event),
    ("resume", "resume without ids", check_resume),
    ("stop", "a disconnect, and a stop that stops the model", check_stop),
    ("validation", "bad input after the stream has started", check_validation),
    ("prompt-in-url", "the prompt in the URL", check_prompt_in_url),
    ("leaks", "internal details in error events", check_leaks),
)


# ---------------------------------------------------------------- running them


def _forbidden(folder: Path) -> str | None:
    source = (folder / "app.py").read_text(encoding="utf-8", errors="replace")
    for name in FORBIDDEN_IMPORTS:
        package, module = name.split(".")
        if re.search(rf"\b{package}\.{module}\b|from\s+{package}\s+import\s+[^\n]*\b{module}\b", source):
            return name
    return None


class _ServiceLog(logging.Handler):
    """Keeps what the service logs while it is graded, instead of printing it into the notebook."""

    def __init__(self) -> None:
        super().__init__(logging.INFO)
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        if not record.name.startswith(("uvicorn", "httpx", "httpcore", "openai", "asyncio")):
            self.lines.append(record.getMessage())


async def grade(
    folder: str | Path = "capstone",
    *,
    only: tuple[str, ...] | None = None,
    out: Callable[[str], None] | None = print,
) -> list[Result]:
    """Run the checks (or `only` those named) against the service in `folder`; print one line per check."""
    folder = service_folder(folder)
    chosen = [c for c in CHECKS if only is None or c[0] in only]
    model = course_model()
    results: list[Result] = []

    def report(result: Result) -> None:
        results.append(result)
        if out is not None:
            out(result.line())

    try:
        if not (folder / "app.py").is_file():
            raise ServiceError(f"no app.py in {folder}")
        forbidden = _forbidden(folder)
        if forbidden:
            raise ServiceError(
                f"app.py imports {forbidden}, the course's own relay: repair the service yourself (helpers.stream_store and helpers.sse are allowed)"
            )
        module = load_service(folder, model=model, offline=True)
    except ServiceError as exc:
        for check, title, _ in chosen:
            report(Result(check, title, False, f"not run: {exc}"))
        return results

    service_log = _ServiceLog()
    root = logging.getLogger()
    root.addHandler(service_log)
    try:
        with kernel_server.server_errors() as server_errors:
            async with httpx.AsyncClient(timeout=httpx.Timeout(20.0)) as client:
                try:
                    service = Service(folder, module, model, client)
                except Exception as exc:
                    for check, title, _ in chosen:
                        report(
                            Result(
                                check,
                                title,
                                False,
                                f"not run: the server did not start: {type(exc).__name__}: {exc}",
                            )
                        )
                    return results
                try:
                    for check, title, run in chosen:
                        report(await _run_one(check, title, run, service, server_errors))
                finally:
                    service.stop()
    finally:
        root.removeHandler(service_log)
    return results


async def _run_one(check: str, title: str, run, service: Service, server_errors: list[str]) -> Result:
    logged = len(server_errors)
    try:
        async with asyncio.timeout(CHECK_TIMEOUT):
            return Result(check, title, True, await run(service))
    except CheckFailed as failed:
        return Result(check, title, False, str(failed))
    except TimeoutError:
        return Result(
            check,
            title,
            False,
            f"no answer within {CHECK_TIMEOUT:.0f} s: the service hung{_crash(server_errors[logged:])}",
        )
    except Exception as exc:  # the learner's service may fail in any way: one line, never a traceback
        message = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
        return Result(
            check,
            title,
            False,
            f"the check could not finish: {type(exc).__name__}{': ' + _short(message, 80) if message else ''}{_crash(server_errors[logged:])}",
        )


def _crash(errors: list[str]) -> str:
    errors = [e for e in errors if "->" in e]
    return f" (the server logged {_short(errors[-1].split(' -> ')[-1], 80)})" if errors else ""


async def check_capstone(folder: str | Path = "capstone") -> list[Result]:
    """The notebook's check: print the grader's lines; NotSolvedYet names the failing checks until all pass."""
    results = await grade(folder)
    failing = [r.title for r in results if not r.passed]
    if failing:
        raise NotSolvedYet(
            f"{len(failing)} of {len(results)} checks fail: {'; '.join(failing)}. Each line above says what the grader saw; the hints below say what it means."
        )
    print(f"All {len(results)} checks pass.")
    return results
