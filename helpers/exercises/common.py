"""What every exercise check shares: the failure type, the hint, and running the learner's code safely.

A check fails with `NotSolvedYet` (an AssertionError) and a hint that says what was observed
against what was expected, never what to type. Whatever the learner's code does (raise, hang,
return the wrong type, crash its server), the check ends with NotSolvedYet and one message,
not a traceback from inside the check.
"""

from __future__ import annotations

import asyncio
import inspect
from collections.abc import Callable
from contextlib import aclosing, contextmanager

__all__ = [
    "NotSolvedYet",
    "require",
    "passed",
    "short",
    "call",
    "learner_code",
    "async_function",
    "async_generator",
    "feed",
    "served",
    "server_error_hint",
]


class NotSolvedYet(AssertionError):
    """The exercise is not solved yet: the message says what the check observed."""


def require(condition: object, hint: str) -> None:
    if not condition:
        raise NotSolvedYet(hint)


def passed(what: str) -> None:
    print(f"✅ {what}")


def short(value, limit: int = 80) -> str:
    """`repr` of a value, cut to `limit` characters: hints quote what the learner's code produced."""
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 1] + "…"


@contextmanager
def learner_code(what: str):
    """Turn an exception raised by the learner's code into NotSolvedYet that names it."""
    try:
        yield
    except NotSolvedYet:
        raise
    except TimeoutError:
        raise NotSolvedYet(
            f"{what} did not finish in time: it is still waiting for something that does not come."
        ) from None
    except Exception as exc:  # the learner's bug, reported as an observation
        message = str(exc) if len(str(exc)) <= 160 else str(exc)[:159] + "…"
        raise NotSolvedYet(f"{what} raised {type(exc).__name__}: {message}") from None


async def call(what: str, fn: Callable, *args, timeout: float = 20.0, **kwargs):
    """Call the learner's function (sync or async) with a generous deadline; its errors become hints."""
    with learner_code(what):
        result = fn(*args, **kwargs)
        if inspect.isawaitable(result):
            async with asyncio.timeout(timeout):
                result = await result
        return result


def async_function(fn: Callable, name: str) -> None:
    """The exercise asks for `async def`: say so if it is a plain function."""
    require(callable(fn), f"{name} is {type(fn).__name__}, not a function.")
    require(
        inspect.iscoroutinefunction(fn),
        f"{name} is a plain `def`; its caller awaits it, which works only with an `async def`.",
    )


def async_generator(fn: Callable, name: str) -> None:
    require(callable(fn), f"{name} is {type(fn).__name__}, not a function.")
    require(
        inspect.isasyncgenfunction(fn),
        f"{name} must be an async generator function (`async def` with `yield` in its body); it is {_kind(fn)}.",
    )


async def feed(
    generator_function: Callable, items, what: str, *, pause: float = 0.0, timeout: float | None = 10.0
) -> list[tuple]:
    """Run the learner's async generator over `items` (arriving one by one, `pause` s apart).

    Returns (yielded, how many items had arrived when it was yielded) pairs: the checks use the
    count to tell a generator that yields as soon as it can from one that waits for the end.
    """
    arrived = 0

    async def source():
        nonlocal arrived
        for item in items:
            await asyncio.sleep(pause)
            arrived += 1
            yield item

    out = []
    with learner_code(what):
        async with asyncio.timeout(timeout), aclosing(generator_function(source())) as produced:
            async for item in produced:
                out.append((item, arrived))
    return out


def _kind(fn: Callable) -> str:
    if inspect.iscoroutinefunction(fn):
        return "an `async def` without `yield`"
    if inspect.isgeneratorfunction(fn):
        return "a plain generator (`def` with `yield`)"
    return "a plain function"


@contextmanager
def served(app, name: str):
    """Serve the learner's app in the kernel; errors its server logs are kept, to quote in hints."""
    from ..kernel_server import serve, server_errors

    with server_errors() as logged:
        with learner_code("building or serving your app"):
            handle = serve(app, name=name)
        try:
            handle.errors = logged
            yield handle
        finally:
            handle.stop()


def server_error_hint(handle) -> str:
    """The first error the learner's server logged, as a sentence to add to a hint (or '')."""
    errors = [line for line in getattr(handle, "errors", []) if " -> " in line]
    return f" Your server logged: {errors[0].split(' -> ')[-1][:160]}" if errors else ""
