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
