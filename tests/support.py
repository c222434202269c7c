"""Helpers the tests share. Fixtures live in conftest.py; what a test imports lives here."""

import os
import time

# The tests use the embedded model; only the real-API tests use a key, when one is given. Popped at
# import: tests/conftest.py imports this module, so the key is gone before any test runs.
REAL_API_KEY = os.environ.pop("OPENAI_API_KEY", None)


def sample(page, expression: str, *, until: str, every: float = 0.1, timeout: float = 30.0) -> list:
    """Evaluate `expression` repeatedly in a Playwright page until `until` is true; return the samples."""
    samples, deadline = [], time.monotonic() + timeout
    while time.monotonic() < deadline:
        samples.append(page.evaluate(expression))
        if page.evaluate(until):
            return samples
        page.wait_for_timeout(every * 1000)
    raise AssertionError(f"timed out waiting for {until!r}; last samples {samples[-5:]}")


def serving(app, name: str):
    """For a fixture: `yield from serving(app, name)` yields `(app, handle)` and stops the server after."""
    from helpers.kernel_server import (
        serve,  # here: conftest imports this module before any test needs a server
    )

    with serve(app, name=name) as handle:
        yield app, handle


def watchable_model():
    """The embedded model paced so that a page can be seen typing: first token at 0.2 s, then 0.03 s each."""
    from helpers.embedded_model import embedded_model

    return embedded_model(first_token_delay=0.2, token_delay=0.03)
