"""Notebook 04: `relay(llm, prompt)`, a relay that counts chunks against tokens.

Notebook 04's relay forwards one token per chunk because the embedded model sends one token per
chunk. The check runs the learner's relay on a second model that puts several tokens in each
chunk (`second_model`, a simulation of such a provider), in English and in Chinese. What it
compares, all from the same run: the text of the `token` events with what the model sent; the
number of token events with the chunks that carried text; the `done` event's `chunks` and
`tokens` with the model's own record and its usage; and whether the first token event came out
while the model was still writing (the model holds its second chunk until it does: see
`second_model`, so the verdict does not depend on how busy the machine is).
"""

from __future__ import annotations

import asyncio
import json
import threading
from contextlib import aclosing

from ..sse import Decoder, Event
from .common import NotSolvedYet, async_generator, learner_code, passed, require, short
from .second_model import GATE_WAIT, running_second_model, second_model

__all__ = ["check_relay", "PROMPTS"]

PROMPTS = ["What is SSE?", "什么是流式输出？"]


def _json(event: Event, what: str):
    try:
        return json.loads(event.data)
    except ValueError:
        raise NotSolvedYet(
            f"the data of a `{event.type}` event is {short(event.data, 60)}, which is not JSON; the page runs JSON.parse on {what}."
        ) from None


async def _relay_events(relay, llm, prompt: str, model) -> tuple[list[Event], str]:
    """The events the relay's output decodes to, and the output itself.

    The model holds its second chunk until the first token event comes out of the relay: a live
    relay releases it at once, one that waits for the end only after the model's GATE_WAIT.
    """
    decoder, events, raw = Decoder(), [], ""
    gate = model.next_gate = threading.Event()
    try:
        with learner_code(f"relay(llm, {prompt!r})"):
            async with asyncio.timeout(30):
                async with aclosing(
                    relay(llm, prompt)
                ) as pieces:  # a check that fails midway still ends the model's stream
                    async for piece in pieces:
                        require(
                            isinstance(piece, (str, bytes)),
                            f"relay yielded {short(piece, 60)} ({type(piece).__name__}); a relay yields the text of each event, framed for the wire (as `helpers.sse.encode` returns it).",
                        )
                        raw += piece if isinstance(piece, str) else piece.decode(errors="replace")
                        events += decoder.feed(piece.encode() if isinstance(piece, str) else piece)
                        if any(e.type == "token" for e in events):
                            gate.set()
    finally:
        gate.set()
        model.next_gate = None
    return events + decoder.close(), raw


async def check_relay(relay) -> None:
    """04: token events per chunk with text, then `done` with the text, the chunks and the model's token count."""
    async_generator(relay, "relay")
    llm, model = second_model(), running_second_model()
    for prompt in PROMPTS:
        before = len(model.requests)
        events, raw = await _relay_events(relay, llm, prompt, model)
        require(
            len(model.requests) > before,
            "the second model was never asked: no token can have come from the `llm` the relay was given.",
        )
        sent = model.last
        kinds = [e.type for e in events]
        require(
            events,
            "the relay's output held no event a browser would dispatch (each needs a `data:` line and a blank line after it).",
        )
        tokens = [e for e in events if e.type == "token"]
        require(tokens, f"no `token` event: the events were {short(kinds, 100)}.")
        text = "".join(
            str(_json(e, "each token").get("text", "")) if isinstance(_json(e, "each token"), dict) else ""
            for e in tokens
        )
        require(
            text == sent.text,
            f"the token events' text differs from what the model sent, from character {_first_difference(text, sent.text)} on: "
            f"yours {short(text[_first_difference(text, sent.text) :], 50)}, the model's {short(sent.text[_first_difference(text, sent.text) :], 50)}.",
        )
        require(
            len(tokens) == len(sent.chunks),
            f"you sent {len(tokens)} token events; the model sent {len(sent.chunks)} chunks that carried text "
            "(a stream also has chunks without text: the role, the finish reason, the usage).",
        )
        require(
            not sent.gate_timed_out,
            f"the model sent its first chunk and waited {GATE_WAIT:g} s, and no token event came out of the relay meanwhile: it waits for the whole answer.",
        )
        require(
            kinds[-1] == "done" and kinds.count("done") == 1,
            f"the events ended {short(kinds[-3:])}; a stream ends with exactly one `done`, after the last token"
            + (
                " (yours has `event: done` without a `data:` line, which a browser never dispatches)."
                if "done" not in kinds and "event: done" in raw
                else "."
            ),
        )
        done = _json(events[-1], "`done`")
        require(
            isinstance(done, dict),
            f"the `done` event's data is {short(done)}, not an object with text, chunks and tokens.",
        )
        require(
            done.get("text") == sent.text,
            f"`done` says text={short(done.get('text'), 50)}; the model sent {short(sent.text, 50)}.",
        )
        require(
            done.get("chunks") == len(sent.chunks),
            f"`done` says chunks={done.get('chunks')!r}; the model sent {len(sent.chunks)} chunks that carried text"
            + (
                " (you counted the ones without text too)"
                if isinstance(done.get("chunks"), int) and done["chunks"] > len(sent.chunks)
                else ""
            )
            + ".",
        )
        require(
            done.get("tokens") == sent.completion_tokens,
            f"`done` says tokens={done.get('tokens')!r}; the model's usage says {sent.completion_tokens} completion tokens"
            + (
                ": that is the number of chunks. This model puts several tokens in a chunk."
                if done.get("tokens") == len(sent.chunks)
                else "."
            ),
        )
    passed(
        f"relayed live; {len(sent.chunks)} chunks carried {sent.completion_tokens} tokens (the last answer), and done said so"
    )


def _first_difference(a: str, b: str) -> int:
    return next((i for i, (x, y) in enumerate(zip(a, b)) if x != y), min(len(a), len(b)))
