"""The retry before the first token, and the held status: behaviour over real HTTP, no tight clocks.

The embedded model's `rate_limit_for(seconds)` refuses every request for a while, as a used-up
quota does, with `Retry-After`. The relay must ask again after that delay and deliver the whole
answer; it must never retry once a token is out; a delay beyond its budget is reported at once;
and with "hold", a failure before the first token is a real 429 instead of a 201 and an event.
"""

import email.utils
import json
import time

import httpx
import openai
import pytest

from helpers.chat_app import USER_MESSAGES, create_app
from helpers.embedded_model import MODEL_NAME, OFFLINE_API_KEY, reply_for
from helpers.kernel_server import serve
from helpers.model_retry import NO_RETRY, RetryPolicy, retry_after
from helpers.sse import parse

from .support import serving


@pytest.fixture(scope="module")
def relay(model):
    yield from serving(create_app(), "test-retry-relay")


def records_for(model, prompt):
    return [r for r in model.requests if r.prompt == prompt]


def stream(server, prompt, **body):
    created = httpx.post(f"{server.url}/streams", json={"prompt": prompt, **body}, timeout=30)
    assert created.status_code == 201, created.text
    events = parse(httpx.get(server.url + created.json()["url"], timeout=30).content)
    return [(e.type, json.loads(e.data)) for e in events]


def refused(status: int, headers: dict) -> openai.APIStatusError:
    response = httpx.Response(
        status, headers=headers, request=httpx.Request("POST", "http://model/v1/chat/completions")
    )
    kind = {429: openai.RateLimitError, 500: openai.InternalServerError, 400: openai.BadRequestError}[status]
    return kind("refused", response=response, body=None)


# --- the policy ---------------------------------------------------------------------------------


def test_the_server_named_delay_comes_first_in_each_of_its_forms():
    assert retry_after(refused(429, {"retry-after-ms": "1500", "retry-after": "9"})) == 1.5
    assert retry_after(refused(429, {"retry-after": "2"})) == 2.0
    in_ten_seconds = email.utils.formatdate(time.time() + 10, usegmt=True)
    assert 8 < retry_after(refused(429, {"retry-after": in_ten_seconds})) <= 10
    assert (
        retry_after(refused(429, {})) is None and retry_after(refused(429, {"retry-after": "soon"})) is None
    )


def test_the_policy_retries_what_a_second_request_can_cure_within_its_attempts_and_budget():
    policy = RetryPolicy(attempts=3, budget=10.0, backoff=0.5, cap=8.0)
    assert policy.delay(refused(429, {"retry-after": "2"}), attempt=1) == 2.0
    assert policy.delay(refused(429, {"retry-after": "2"}), attempt=3) is None  # attempts used up
    # beyond the budget: tell the user now
    assert policy.delay(refused(429, {"retry-after": "30"}), attempt=1) is None
    assert policy.delay(refused(429, {"retry-after": "2"}), attempt=2, waited=9.0) is None
    assert policy.delay(refused(400, {}), attempt=1) is None  # a bad request stays bad
    assert policy.delay(ValueError("a bug"), attempt=1) is None
    backoffs = [policy.delay(refused(500, {}), attempt=2) for _ in range(200)]
    assert all(0 <= wait <= 1.0 for wait in backoffs) and len(set(backoffs)) > 100  # jittered, up to 0.5 * 2
    assert NO_RETRY.delay(refused(429, {"retry-after": "1"}), attempt=1) is None


# --- the relay --------------------------------------------------------------------------------------


def test_the_retry_before_the_first_token(relay, model):
    """Refused for a second: the relay waits as told, asks again, and the whole answer arrives once."""
    _, server = relay
    prompt = "What is SSE? (retried)"
    with model.rate_limit_for(1.0):
        events = stream(server, prompt)
    kinds = [kind for kind, _ in events]
    retries = [data for kind, data in events if kind == "step" and data["step"] == "retry"]
    assert len(retries) == 1 and retries[0]["code"] == "rate_limited" and retries[0]["wait"] == 1.0
    assert retries[0]["attempt"] == 2
    assert kinds.index("token") > events.index(("step", retries[0]))  # announced before any token
    assert "stream_error" not in kinds and events[-1][1]["complete"] is True
    assert "".join(d["text"] for k, d in events if k == "token") == "".join(reply_for(prompt))
    first, second = records_for(model, prompt)
    assert (first.status, second.status) == ("rejected", "finished")
    assert second.started - first.started >= 1.0 - 0.05  # it honoured Retry-After: 1


def test_the_sdk_honours_the_same_retry_after_the_relay_does(model):
    """The library that does the same job: the official SDK's own retries, against the same window."""
    prompt = "What is SSE? (the SDK retries)"
    with (
        model.rate_limit_for(1.0),
        openai.OpenAI(base_url=model.base_url, api_key=OFFLINE_API_KEY, max_retries=2) as sdk,
    ):
        reply = sdk.chat.completions.create(model=MODEL_NAME, messages=[{"role": "user", "content": prompt}])
    assert reply.choices[0].message.content == "".join(reply_for(prompt))
    first, second = records_for(model, prompt)
    assert (first.status, second.status) == ("rejected", "finished")
    assert second.started - first.started >= 1.0 - 0.05


def test_a_wait_beyond_the_budget_is_reported_at_once_with_the_delay(relay, model):
    _, server = relay
    prompt = "What is SSE? (refused for long)"
    with model.rate_limit_for(30):
        events = stream(server, prompt)
    error, done = events[-2][1], events[-1][1]
    assert error["code"] == "rate_limited" and error["retry_after"] == 30
    assert done["reason"] == "error" and done["tokens"] == 0
    assert len(records_for(model, prompt)) == 1  # no second request: waiting 30 s is the user's call


def test_the_retries_end_after_the_policy_attempts(model):
    app = create_app(retry=RetryPolicy(attempts=2, backoff=0.01))
    prompt = "What is SSE? (always failing)"
    with serve(app, name="test-retry-attempts") as server:
        events = stream(server, prompt, fault="server_error")
    assert [d["attempt"] for k, d in events if k == "step" and d["step"] == "retry"] == [2]
    assert events[-2][1]["code"] == "model_error" and len(records_for(model, prompt)) == 2


def test_no_retry_once_a_token_is_out(relay, model):
    _, server = relay
    prompt = "What is SSE? (fails after three tokens)"
    events = stream(server, prompt, fault="error_after", fault_at=3)
    assert sum(kind == "token" for kind, _ in events) == 3 and events[-2][1]["code"] == "model_error"
    assert not [d for k, d in events if k == "step" and d["step"] == "retry"]
    assert len(records_for(model, prompt)) == 1


def test_a_stop_during_the_wait_ends_the_stream_without_asking_again(relay, model):
    _, server = relay
    prompt = "What is SSE? (stopped while waiting)"
    with model.rate_limit_for(5):
        created = httpx.post(f"{server.url}/streams", json={"prompt": prompt}).json()
        assert announced_retry(server, created["url"])
        done = httpx.post(f"{server.url}{created['url']}/stop", timeout=30).json()["done"]
    assert done["reason"] == "stopped" and done["tokens"] == 0
    assert len(records_for(model, prompt)) == 1


def announced_retry(server, url) -> bool:
    """Follow the stream until its retry step arrives (True) or a token or the end does (False)."""
    with httpx.stream("GET", server.url + url, timeout=10) as response:
        for line in response.iter_lines():
            if line.startswith("data:") and json.loads(line[5:]).get("step") == "retry":
                return True
            if line in ("event: token", "event: done"):
                return False
    return False


# --- hold: the status code, while it is still free -----------------------------------------------


@pytest.mark.parametrize("path", ["/streams", "/chat"])
def test_held_a_refusal_before_the_first_token_is_a_real_429_with_retry_after(relay, model, path):
    _, server = relay
    with model.rate_limit_for(30):
        response = httpx.post(
            f"{server.url}{path}", json={"prompt": "What is SSE? (held)", "hold": True}, timeout=30
        )
    assert response.status_code == 429 and response.headers["retry-after"] == "30"
    detail = response.json()["detail"]
    assert detail["code"] == "rate_limited" and detail["message"] == USER_MESSAGES["rate_limited"]
    assert detail["request_id"] == response.headers["x-request-id"]


@pytest.mark.parametrize("path", ["/streams", "/chat"])
def test_without_hold_the_same_refusal_is_an_event_after_a_success_status(relay, model, path):
    _, server = relay
    with model.rate_limit_for(30):
        response = httpx.post(f"{server.url}{path}", json={"prompt": "What is SSE? (not held)"}, timeout=30)
        body = (
            response.content
            if path == "/chat"
            else httpx.get(server.url + response.json()["url"], timeout=30).content
        )
    assert response.status_code == (200 if path == "/chat" else 201)
    error = [json.loads(e.data) for e in parse(body) if e.type == "stream_error"]
    assert error and error[0]["code"] == "rate_limited" and error[0]["retry_after"] == 30


def test_held_the_201_comes_after_the_retry_that_produced_the_first_token(relay, model):
    _, server = relay
    prompt = "What is SSE? (held through a retry)"
    with model.rate_limit_for(1.0):
        response = httpx.post(f"{server.url}/streams", json={"prompt": prompt, "hold": True}, timeout=30)
        answered = time.monotonic()  # the same clock as the model's records: this process's
    assert response.status_code == 201
    first, second = records_for(model, prompt)
    assert (first.status, second.started < answered) == ("rejected", True)
    events = parse(httpx.get(server.url + response.json()["url"], timeout=30).content)
    assert json.loads(events[-1].data)["complete"] is True
