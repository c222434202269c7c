"""Notebook 09: `decide(products)`, stream or not for three products, from numbers measured on them.

Notebook 09 built its decision rule from a grid it measured. Here the rule meets products whose
pace the learner does not know: each product answers at `<url>/streamed` (SSE) and at
`<url>/buffered` (one JSON body), and says whether its client needs the whole result. The learner
measures the wait that streaming saves and decides. The check serves the same three products at
other paces than the notebook's (so a decision copied from the notebook's run fails), records when
its server sent each response's first byte, and compares: the wait saved the learner measured with
the server's record of the same run, and each decision with the rule applied to the learner's own
measurement.
"""

from __future__ import annotations

import asyncio
import json
import time
from dataclasses import dataclass
from statistics import median

from ..embedded_model import reply_for
from ..sse import encode
from .common import async_function, call, passed, require, served, short

__all__ = ["Product", "NOTEBOOK_PRODUCTS", "CHECK_PRODUCTS", "exercise_products", "rule", "check_decide"]

DECISIONS = ("stream", "stream if the UI benefits", "do not stream")


@dataclass(frozen=True)
class Product:
    what: str
    needs_whole_result: bool
    first_token_delay: float
    tokens: int
    token_delay: float

    @property
    def wait_saved(self) -> float:
        """What streaming should save, by construction: the time to write every token after the first."""
        return self.tokens * self.token_delay


# The paces are a simulation; only the learner's measurement tells them apart.
NOTEBOOK_PRODUCTS = {
    "autocomplete": Product("a code-completion suggestion in an editor", False, 0.1, 4, 0.01),
    "support chat": Product("a support assistant's answer, read by a person", False, 0.1, 60, 0.01),
    "invoice extraction": Product(
        "an invoice's fields as JSON, validated by a program before it is saved", True, 0.1, 120, 0.01
    ),
}
CHECK_PRODUCTS = {
    "autocomplete": Product("a code-completion suggestion in an editor", False, 0.1, 3, 0.01),
    "support chat": Product("a support assistant's answer, read by a person", False, 0.1, 130, 0.01),
    "invoice extraction": Product(
        "an invoice's fields as JSON, validated by a program before it is saved", True, 0.1, 50, 0.01
    ),
}


def rule(wait_saved: float, needs_whole_result: bool) -> str:
    """Notebook 09's rule, with its section 3: a result needed whole is not streamed."""
    if needs_whole_result or wait_saved < 0.1:
        return "do not stream"
    return "stream" if wait_saved >= 1.0 else "stream if the UI benefits"


def _app(products: dict[str, Product], first_bytes: dict):
    from fastapi import FastAPI, HTTPException
    from fastapi.responses import JSONResponse, StreamingResponse

    app = FastAPI(title="Streaming Lab: three products (simulated paces)")

    async def tokens(product: Product):
        start = time.monotonic()
        for i, token in enumerate(reply_for("What is SSE?", product.tokens)):
            await asyncio.sleep(
                max(0.0, start + product.first_token_delay + i * product.token_delay - time.monotonic())
            )
            yield token

    def known(slug: str) -> tuple[str, Product]:
        names = {_slug(name): name for name in products}
        if slug not in names:
            raise HTTPException(404, f"no product {slug!r}; the products are {sorted(names)}")
        return names[slug], products[names[slug]]

    @app.get("/{slug}/streamed")
    async def streamed(slug: str):
        (name, product), asked = known(slug), time.monotonic()

        async def events():
            first = True
            async for token in tokens(product):
                if first:  # when the first body byte leaves: the streamed reader's wait
                    first_bytes.setdefault((name, "streamed"), []).append(time.monotonic() - asked)
                    first = False
                yield encode(json.dumps({"text": token}), event="token")
            yield encode("{}", event="done")

        return StreamingResponse(
            events(), media_type="text/event-stream", headers={"Cache-Control": "no-cache"}
        )

    @app.get("/{slug}/buffered")
    async def buffered(slug: str):
        (name, product), asked = known(slug), time.monotonic()
        text = "".join([token async for token in tokens(product)])
        first_bytes.setdefault((name, "buffered"), []).append(time.monotonic() - asked)
        return JSONResponse({"text": text})

    return app


def _slug(name: str) -> str:
    return name.replace(" ", "-")


def _described(products: dict[str, Product], server) -> dict[str, dict]:
    return {
        name: {
            "url": f"{server.url}/{_slug(name)}",
            "what": p.what,
            "needs_whole_result": p.needs_whole_result,
        }
        for name, p in products.items()
    }


def exercise_products():
    """Notebook 09's three products, served in the kernel: (the server, {name: {"url", "what", "needs_whole_result"}})."""
    from ..kernel_server import serve

    server = serve(_app(NOTEBOOK_PRODUCTS, {}), name="nb09-products")
    return server, _described(NOTEBOOK_PRODUCTS, server)


async def check_decide(decide) -> None:
    """09: for each product, the wait saved (measured) and the decision it leads to."""
    async_function(decide, "decide")
    first_bytes: dict = {}
    app = _app(CHECK_PRODUCTS, first_bytes)
    with served(app, "exercise-09-products") as server:
        products = _described(CHECK_PRODUCTS, server)
        result = await call("decide(products)", decide, products, timeout=60)
    require(
        isinstance(result, dict) and set(result) == set(CHECK_PRODUCTS),
        f"decide(products) returned {short(result, 100)}; expected a dict with one entry per product: {sorted(CHECK_PRODUCTS)}.",
    )
    lines = []
    for name, product in CHECK_PRODUCTS.items():
        entry = result[name]
        require(
            isinstance(entry, dict)
            and isinstance(entry.get("wait_saved"), (int, float))
            and isinstance(entry.get("decision"), str),
            f"for {name!r} you returned {short(entry, 100)}; expected {{'wait_saved': seconds, 'decision': ...}}.",
        )
        saved, decision = entry["wait_saved"], entry["decision"]
        streamed, buffered = first_bytes.get((name, "streamed")), first_bytes.get((name, "buffered"))
        require(
            streamed and buffered,
            f"for {name!r} the server saw no GET {_slug(name)}/{'buffered' if streamed else 'streamed'}: "
            "the wait saved is measured, on both routes, not worked out from the notebook's run.",
        )
        truth = median(buffered) - median(streamed)  # the same figure from the server's side, this run
        # generous: on a busy 2-core machine a client read was seen 0.3 s late. The size of the figure
        # counts, not its sign: a short answer's first token delayed by load makes `truth` negative.
        slack = 0.4 + 0.25 * abs(truth)
        require(
            abs(saved - truth) <= slack,
            f"for {name!r} you measured {saved:.2f} s of wait saved, but this run's server sent the buffered answer "
            f"{truth:.2f} s after the streamed one's first token.",
        )
        require(
            decision in DECISIONS,
            f"for {name!r} you decided {decision!r}; the decisions of notebook 09's table are {list(DECISIONS)}.",
        )
        expected = rule(saved, product.needs_whole_result)
        require(
            decision == expected,
            f"for {name!r} you decided {decision!r}, with {saved:.2f} s of wait saved"
            + (" for a client that needs the whole result" if product.needs_whole_result else "")
            + f"; notebook 09's rule says {expected!r} for that.",
        )
        lines.append(f"{name}: {saved:.2f} s saved -> {decision}")
    passed("decided from your own measurements:\n   " + "\n   ".join(lines))
