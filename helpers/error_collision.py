"""The source material's client (问题3), as written, in Chromium: when its `error` listener collides.

The source's server names its failure event `error`; its client listens with
`addEventListener('error', e => JSON.parse(e.data) ...)`. The browser's own connection `error`
event reaches the same listener, with no `data`, and `JSON.parse(undefined)` throws. When does the
browser fire it? Five cases, each against its own pitfall server running the source's generator
and serving `error-collision.html` (the source's script, character for character):

    normal end        the stream sends `done`; the client closes on it, before the response ends
    network drop      the connection breaks mid-answer
    graceful restart  the server shuts down: uvicorn cancels the stream, and the source's
                      `finally` still sends `done`
    crash             the process dies mid-answer, and refuses connections until it is back
    405               `new EventSource('/chat-stream')` against the source's POST route

    missing = chromium_missing()          # None, or one line saying what to install
    results = await run_cases()           # one headless Chromium, the five cases at once

Each `CaseResult` is what the page recorded: the connection's and the server's `error` events,
the page's uncaught exceptions, what the source's `showError`/`showSuccess` said, the text, and
how often the source's generator ran. `tests/browser/test_error_collision.py` asserts on them.
"""

from __future__ import annotations

import asyncio
import logging
import time
from contextlib import contextmanager
from dataclasses import dataclass, field

import httpx

from .chromium import CHROMIUM_ARGS, chromium_missing
from .embedded_model import is_embedded, reply_for, server_chat_model
from .kernel_server import serve, server_errors
from .pitfalls import DEFAULT_MESSAGE, create_pitfall_app

__all__ = ["CASES", "CaseResult", "run_cases", "chromium_missing"]

CASES = ("normal end", "network drop", "graceful restart", "crash", "405")
FULL = "".join(reply_for(DEFAULT_MESSAGE))
RECORD = (
    "({text: lab.text, errors: lab.errors, successes: lab.successes, pageErrors: lab.pageErrors,"
    " opens: lab.opens, connectionErrors: lab.connectionErrors, serverErrors: lab.serverErrors,"
    " readyState: lab.source ? lab.source.readyState : null})"
)
READY_STATES = {0: "CONNECTING", 1: "OPEN", 2: "CLOSED", None: "none"}


@dataclass
class CaseResult:
    case: str
    connection_errors: int  # `error` events without data: the browser's own
    server_errors: int  # `error` events with data: the server's
    page_errors: list[str]  # uncaught exceptions: JSON.parse(undefined) in the source's listener
    opens: int  # connections that opened
    generations: int  # times the source's generator ran on the server
    errors: list[str]  # what the source's showError said
    successes: list[str]  # what the source's showSuccess said
    text: str  # what the page shows
    ready_state: str  # the EventSource at the end: CLOSED, CONNECTING, OPEN
    seconds: float = field(default=0.0, repr=False)

    @property
    def collided(self) -> bool:
        """The connection's error reached the source's listener and JSON.parse threw."""
        return any("JSON" in error for error in self.page_errors)

    @property
    def shown(self) -> str:
        """The answer on the page, in words."""
        if not self.text:
            return "nothing"
        if self.text == FULL:
            return "the whole answer"
        if self.text.endswith(FULL):
            return "the start twice, then the whole answer"
        if FULL.startswith(self.text):
            return "the answer cut short"
        return "other text"


async def _sample(page, until: str, timeout: float, case: str) -> None:
    deadline = time.monotonic() + timeout
    while not await page.evaluate(until):
        if time.monotonic() > deadline:
            raise TimeoutError(
                f"{case}: waited {timeout:.0f} s for {until!r}; the page recorded {await page.evaluate(RECORD)}"
            )
        await asyncio.sleep(0.1)


# The graceful restart must land while the source's generator waits on the model, as it does
# between any two tokens of a real answer: uvicorn's cancellation then wakes the generator, whose
# `finally` still yields `done`. Left to timing, on a busy machine the restart could come after the
# whole answer, or while a token was being written. So the model stalls after a few tokens (a lab
# fault), and the restart comes during the stall.
RESTART_AFTER_TOKENS = 8


def _stalling(llm_factory, after: int):
    def factory():
        llm = llm_factory()
        stall = {"lab": {"fault": "stall_after", "fault_at": after}}
        return llm.bind(extra_body=stall) if is_embedded(llm) else llm

    return factory


async def _run(case: str, context, llm_factory, prefix: str) -> CaseResult:
    app = create_pitfall_app(
        _stalling(llm_factory, RESTART_AFTER_TOKENS) if case == "graceful restart" else llm_factory
    )
    name = f"{prefix}-{case.replace(' ', '-')}"
    server = serve(app, name=name)
    page = await context.new_page()
    started = time.monotonic()
    try:
        path = "as-written" if case == "405" else "over-get"
        await page.goto(f"{server.url}/{path}/error-collision.html")
        if case == "normal end":
            await _sample(page, "lab.successes.length > 0", 30, case)
            await asyncio.sleep(1.5)  # longer than a reconnect would take, had the page not closed
        elif case == "network drop":
            await _sample(page, "lab.text.length > 20", 30, case)
            async with httpx.AsyncClient() as client:
                await client.post(f"{server.url}/drop")
            # it reconnects, and the answer runs again
            await _sample(page, "lab.successes.length > 0", 30, case)
        elif case == "graceful restart":
            await _sample(page, "lab.text.length > 20", 30, case)
            await asyncio.to_thread(server.stop)  # uvicorn's shutdown: open streams are cancelled
            await _sample(page, "lab.successes.length > 0 || lab.connectionErrors > 0", 30, case)
            await asyncio.sleep(1.0)
        elif case == "crash":
            await _sample(page, "lab.text.length > 20", 30, case)
            app.state.drop()  # its connections die with the process ...
            await asyncio.to_thread(server.stop)
            await _sample(page, "lab.connectionErrors >= 2", 30, case)  # ... and reconnects are refused
            # back, on the same port
            server = await asyncio.to_thread(serve, app, name=name, port=server.port)
            await _sample(page, "lab.successes.length > 0", 30, case)
        elif case == "405":
            await _sample(page, "lab.pageErrors.length > 0", 30, case)
            await asyncio.sleep(1.5)  # a reconnect would have happened by now; a 405 gets none
        else:
            raise ValueError(f"unknown case {case!r}; the cases are {CASES}")
        seen = await page.evaluate(RECORD)
    finally:
        await page.close()
        await asyncio.to_thread(server.stop)
    return CaseResult(
        case=case,
        connection_errors=seen["connectionErrors"],
        server_errors=seen["serverErrors"],
        page_errors=seen["pageErrors"],
        opens=seen["opens"],
        generations=app.state.runs["seed"],
        errors=seen["errors"],
        successes=seen["successes"],
        text=seen["text"],
        ready_state=READY_STATES.get(seen["readyState"], str(seen["readyState"])),
        seconds=time.monotonic() - started,
    )


@contextmanager
def _without_generator_exit_errors():
    """Keep out of the notebook what the source's generator logs when a server closes it.

    A server that stops closes the generators still open in its loop; the source's `yield` in
    `finally` then raises "async generator ignored GeneratorExit" (its fault 1, which notebook 06
    shows on its own), and asyncio logs that from the server's thread into whichever cell runs.
    """

    def keep(record: logging.LogRecord) -> bool:
        error = record.exc_info[1] if record.exc_info else None
        return not (isinstance(error, RuntimeError) and "ignored GeneratorExit" in str(error))

    logger = logging.getLogger("asyncio")
    logger.addFilter(keep)
    try:
        yield
    finally:
        logger.removeFilter(keep)


async def run_cases(
    cases=CASES, *, llm_factory=server_chat_model, prefix: str = "collision"
) -> list[CaseResult]:
    """Run `cases` at once in one headless Chromium, each against its own server; results in order.

    Raises RuntimeError with the install line when Chromium or Playwright is missing.
    """
    missing = chromium_missing()
    if missing:
        raise RuntimeError(missing)
    from playwright.async_api import async_playwright

    from .chromium import _binary

    with server_errors(), _without_generator_exit_errors():  # log lines that belong to no cell
        async with async_playwright() as playwright:
            browser = await playwright.chromium.launch(
                executable_path=str(_binary()), headless=True, args=CHROMIUM_ARGS
            )
            try:
                context = await browser.new_context()
                return list(
                    await asyncio.gather(*(_run(case, context, llm_factory, prefix) for case in cases))
                )
            finally:
                await browser.close()
