"""When to ask the model again, and after how long: only before the first token.

Before the first token reaches the store, nothing of the answer is committed: no follower has
seen a word, so asking the model again costs the user only the wait. After it, a retry would
send a second answer after the first one's start, so the relay never retries there.

`RetryPolicy.delay(exc, attempt, waited)` answers "wait this long, then try again" or "give up":

- only for failures that a second request can cure, the ones the official `openai` SDK retries
  too: a rate limit (429), a server error (5xx), a connection that failed;
- the server's own word first: `retry-after-ms`, then `Retry-After` (seconds or an HTTP date),
  as the SDK reads them; without one, exponential backoff with "full jitter" (a random wait
  between 0 and base * 2^n, capped), so that many clients refused at once do not return at once;
- within a budget: a wait that would take the total past `budget` seconds is not worth it, and
  the user is told at once, with the delay the server asked for.

Why the relay retries itself instead of leaving it to the SDK (`max_retries`): the SDK retries
out of sight, inside the first `anext()`, so the page cannot be told, the relay's silence deadline
would count the SDK's sleeps as the model's silence, and two retry layers multiply their attempts.
So the relay's model keeps `max_retries=0`, and this loop is the only one.
"""

from __future__ import annotations

import random
import time
from dataclasses import dataclass
from email.utils import parsedate_to_datetime

import openai

__all__ = ["RetryPolicy", "NO_RETRY", "RETRYABLE", "retry_after"]

# What a second request can cure: the SDK's list (408, 409, 429, 5xx, connection errors), by type.
RETRYABLE = (
    openai.RateLimitError,
    openai.InternalServerError,
    openai.APIConnectionError,
    openai.ConflictError,
)


def retry_after(exc: BaseException) -> float | None:
    """The delay the server asked for in its error response, in seconds; None if it named none."""
    response = getattr(exc, "response", None)
    headers = getattr(response, "headers", None) or {}
    millis = headers.get("retry-after-ms")
    if millis is not None:
        try:
            return max(0.0, float(millis) / 1000)
        except ValueError:
            pass
    value = headers.get("retry-after")
    if value is None:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:  # an HTTP date, e.g. "Wed, 21 Oct 2015 07:28:00 GMT"
        return max(0.0, parsedate_to_datetime(value).timestamp() - time.time())
    except (TypeError, ValueError):
        return None


@dataclass(frozen=True)
class RetryPolicy:
    attempts: int = 3  # model requests at most, the first included
    budget: float = 10.0  # seconds of waiting at most, over all retries of one answer
    backoff: float = 0.5  # without Retry-After: a random wait up to backoff * 2^(n-1) before retry n ...
    cap: float = 8.0  # ... and never more than this

    def delay(self, exc: BaseException, attempt: int, waited: float = 0.0) -> float | None:
        """Seconds to wait before request `attempt + 1`, or None: give up and tell the user."""
        if attempt >= self.attempts or not isinstance(exc, RETRYABLE):
            return None
        wait = retry_after(exc)
        if wait is None:
            wait = random.uniform(0, min(self.cap, self.backoff * 2 ** (attempt - 1)))
        if waited + wait > self.budget:
            return None
        return wait


NO_RETRY = RetryPolicy(attempts=1)
