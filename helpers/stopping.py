"""Stop a stream mid-answer and read what the model did: how fast it stopped, and what it cost.

A stopped stream never receives its usage chunk (the API sends it last), so the client cannot
see what it was billed. The embedded model's record can: the tokens it generated before it saw
the disconnect, and the prompt tokens it read. Used by notebook 05, the cancellation test and
`make bench`.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass

__all__ = ["StoppedStream", "cancel_after"]


@dataclass(frozen=True)
class StoppedStream:
    status: str  # the model's record once the bound passed: "cancelled" means it stopped
    chunks_received: int  # content chunks the client had when it cancelled
    tokens_generated: int  # completion tokens the model produced: what is billed
    prompt_tokens: int
    stop_delay: float | None  # seconds from the cancel to the model's stop; None: it never stopped
    usage_seen: bool  # did the client get a usage chunk? (never, for a stopped stream)


async def cancel_after(
    llm,
    model,
    *,
    chunks: int = 5,
    then_wait: float = 0.0,
    prompt: str = "long",
    tokens: int = 10_000,
    bound: float = 10.0,
) -> StoppedStream:
    """Stream `prompt` with `llm` from the embedded `model`, cancel the reading task `then_wait`
    seconds after `chunks` content chunks arrived, and wait up to `bound` s for the model to stop.

    A user's Stop lands at any moment between two tokens; vary `then_wait` across a token
    interval to try them all."""
    before, received, usage_seen = model.last, 0, False
    enough = asyncio.Event()

    async def consume():
        nonlocal received, usage_seen
        async for chunk in llm.astream(prompt, extra_body={"lab": {"tokens": tokens}}):
            usage_seen = usage_seen or chunk.usage_metadata is not None
            if chunk.content:
                received += 1
                if received == chunks:
                    enough.set()

    task = asyncio.create_task(consume())
    try:
        await asyncio.wait_for(enough.wait(), bound)
    except TimeoutError:
        task.cancel()
        raise TimeoutError(f"no {chunks} chunks within {bound:g} s: is the embedded model running?") from None
    await asyncio.sleep(then_wait)
    record = model.last
    if record is before:
        task.cancel()
        raise RuntimeError("the stream did not reach this model: pass the model that `llm` talks to")
    task.cancel()
    cancelled_at, seen = time.monotonic(), received
    while record.status == "running" and time.monotonic() - cancelled_at < bound:
        await asyncio.sleep(0.002)
    status, generated = record.status, record.tokens_sent
    while not task.done():  # a cancel can be lost (see chat_model); insist, so nothing keeps running
        task.cancel()
        await asyncio.wait([task], timeout=1.0)
    delay = record.ended - cancelled_at if status != "running" and record.ended else None
    return StoppedStream(status, seen, generated, record.prompt_tokens, delay, usage_seen)
