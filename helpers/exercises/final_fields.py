"""Notebook 05: `final_fields(partials)`, act on a field of streamed JSON once it can no longer change.

Section 3 of notebook 05 showed every field's first value still growing. The check feeds streams
of partial objects, as `JsonOutputParser` produces them, and counts the partials that have arrived
when each field is yielded: a string that grows, a number that grows (1, then 12), a list, two
keys that appear in one partial, an empty stream; then a live stream from the model.
"""

from __future__ import annotations

import json
from contextlib import aclosing

from .common import async_generator, feed, learner_code, passed, require, short

__all__ = ["check_final_fields", "CASES"]

_TITLE, _STEPS = "Stream stops after the first token", ["Open the page", "Send a long prompt"]
# (partial objects in order, and for each field the number of partials after which it was final)
CASES = [
    (
        [
            {},
            {"title": ""},
            {"title": "Stream"},
            {"title": "Stream stops"},
            {"title": _TITLE},
            {"title": _TITLE, "priority": ""},
            {"title": _TITLE, "priority": "urgent"},
            {"title": _TITLE, "priority": "urgent", "steps": []},
            {"title": _TITLE, "priority": "urgent", "steps": ["Open"]},
            {"title": _TITLE, "priority": "urgent", "steps": ["Open the page"]},
            {"title": _TITLE, "priority": "urgent", "steps": _STEPS},
        ],
        {"title": 6, "priority": 8, "steps": 11},
    ),
    (
        [
            {"retries": 1},
            {"retries": 12},
            {"retries": 12, "queue": "slow", "owner": ""},
            {"retries": 12, "queue": "slow", "owner": "ops"},
        ],
        {"retries": 3, "queue": 3, "owner": 4},
    ),
    ([], {}),
]


async def _run(final_fields, partials: list[dict]) -> list[tuple[object, int]]:
    return await feed(final_fields, partials, "final_fields(...)")


async def check_final_fields(final_fields) -> None:
    """05: yield each top-level field of streamed JSON once, as soon as it is final."""
    async_generator(final_fields, "final_fields")
    for partials, due in CASES:
        final = partials[-1] if partials else {}
        seen: dict = {}
        for item, arrived in await _run(final_fields, partials):
            require(
                isinstance(item, tuple) and len(item) == 2,
                f"you yielded {short(item)}; the caller expects (field, value) pairs.",
            )
            field, value = item
            require(
                field in final,
                f"you yielded the field {field!r}, which the object never had (its fields: {list(final)}).",
            )
            require(
                field not in seen,
                f"you yielded {field!r} twice: after partial {seen.get(field, (0, 0))[1]} and after partial {arrived}.",
            )
            require(
                value == final[field],
                f"you yielded {field}={short(value)} after partial {arrived} of {len(partials)}, but the field grew to {short(final[field])} later.",
            )
            require(
                arrived <= due[field],
                f"{field!r} could no longer change after partial {due[field]} of {len(partials)}, "
                f"but you yielded it only after partial {arrived}: an app acting on it waited that much longer.",
            )
            seen[field] = (value, arrived)
        missing = [f for f in final if f not in seen]
        require(
            not missing,
            f"never yielded: {missing}, of the object {short(final, 100)} ({len(partials)} partials).",
        )
    await _check_live(final_fields)


async def _check_live(final_fields) -> None:
    from langchain_core.output_parsers import JsonOutputParser

    from ..embedded_model import chat_model

    schema = {
        "type": "object",
        "properties": {
            "title": {"type": "string"},
            "priority": {"enum": ["low", "urgent"]},
            "steps": {"type": "array", "items": {"type": "string"}},
        },
    }
    chain = (
        chat_model(quiet=True, offline=True).bind(response_format={"type": "json_object"})
        | JsonOutputParser()
    )
    last: dict = {}

    async def live_stream():
        nonlocal last
        async for partial in chain.astream(
            f"An urgent ticket, in JSON with this schema: {json.dumps(schema)}"
        ):
            last = partial
            yield partial

    with learner_code("final_fields(...) on a stream from the model"):
        async with aclosing(final_fields(live_stream())) as fields:
            live = [item async for item in fields]
    require(
        dict(live) == last and len(live) == len(last),
        f"on a stream from the model you yielded {short(live, 120)}; its final object was {short(last, 120)}.",
    )
    passed(
        f"each field yielded once, as soon as it was final ({sum(len(d) for _, d in CASES)} fields in {len(CASES)} streams, {len(live)} on a live stream from the model)"
    )
