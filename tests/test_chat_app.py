"""The relay end to end over real HTTP: events, validation, every failure row, resume, disconnect."""

import json
import time

import httpx
import pytest

from helpers.chat_app import create_app
from helpers.embedded_model import reply_for
from helpers.kernel_server import serve
from helpers.sse import Decoder, parse

PROMPT = "What is SSE?"
FULL = "".join(reply_for(PROMPT))


@pytest.fixture(scope="module")
def relay(model):
    app = create_app(resume_grace=0.3)
    with serve(app, name="test-relay") as handle:
        yield app, handle


def events_of(response):
    return [(e.type, json.loads(e.data), e.id) for e in parse(response.content)]


def test_retrieval_then_tokens_then_done(relay):
    _, server = relay
    response = httpx.get(f"{server.url}/chat", params={"prompt": PROMPT}, timeout=30)
    assert response.headers["content-type"].startswith("text/event-stream")
    assert response.headers["cache-control"] == "no-cache"
    events = events_of(response)
    kinds = [kind for kind, _, _ in events]
    assert kinds == ["retrieval", "retrieval"] + ["token"] * len(reply_for(PROMPT)) + ["done"]
    assert "".join(data["text"] for kind, data, _ in events if kind == "token") == FULL
    assert events[-1][1]["complete"] is True and events[-1][1]["text"] == FULL
    assert len({event_id for _, _, event_id in events}) == len(events)  # every event has its own id


def test_post_streams_the_same_events(relay):
    _, server = relay
    response = httpx.post(f"{server.url}/chat", json={"prompt": PROMPT}, headers={"Accept": "text/event-stream"}, timeout=30)
    assert events_of(response)[-1][1]["text"] == FULL


@pytest.mark.parametrize("params", [{"prompt": ""}, {"prompt": "x" * 2001}, {"prompt": "x", "tokens": "many"}, {}, {"prompt": "x", "fault": "nope"}, {"prompt": "x", "surprise": 1}])
def test_invalid_requests_get_422_json_before_any_stream(relay, params):
    _, server = relay
    response = httpx.get(f"{server.url}/chat", params=params)
    assert response.status_code == 422
    assert response.headers["content-type"] == "application/json"
    assert "detail" in response.json()


def test_wrong_types_in_a_post_body_are_422(relay):
    _, server = relay
    assert httpx.post(f"{server.url}/chat", json={"prompt": ["not", "text"]}).status_code == 422


@pytest.mark.parametrize("fault, code", [
    ("error_after", "model_error"),
    ("drop_after", "upstream_disconnected"),
    ("stall_after", "timeout"),
    ("rate_limit", "rate_limited"),
    ("server_error", "model_error"),
])
def test_failures_become_an_error_event_then_done_with_the_partial_text(relay, model, fault, code):
    _, server = relay
    response = httpx.get(f"{server.url}/chat", params={"prompt": PROMPT, "fault": fault, "fault_at": 4, "timeout": 0.5}, timeout=30)
    assert response.status_code == 200
    events = events_of(response)
    assert [kind for kind, _, _ in events[-2:]] == ["stream_error", "done"]
    error, done = events[-2][1], events[-1][1]
    assert error["code"] == code
    assert done["complete"] is False
    sent = "".join(data["text"] for kind, data, _ in events if kind == "token")
    assert done["text"] == sent and FULL.startswith(sent)
    if fault in ("error_after", "drop_after", "stall_after"):
        assert len(sent) > 0
    if fault == "rate_limit":
        assert error["retry_after"] == 2
    if fault == "stall_after":
        time.sleep(0.1)
        assert model.last.status == "cancelled"  # the timeout cancelled the upstream request


def test_a_finished_stream_answers_204_so_eventsource_stops(relay):
    _, server = relay
    last_id = events_of(httpx.get(f"{server.url}/chat", params={"prompt": "hi"}, timeout=30))[-1][2]
    response = httpx.get(f"{server.url}/chat", params={"prompt": "hi"}, headers={"Last-Event-ID": last_id})
    assert response.status_code == 204
    assert httpx.get(f"{server.url}/chat", params={"prompt": "hi"}, headers={"Last-Event-ID": "gone.3"}).status_code == 204


def read_events(response, stop_after_tokens=None):
    decoder, events = Decoder(), []
    for chunk in response.iter_raw():
        for event in decoder.feed(chunk):
            events.append(event)
            if stop_after_tokens and sum(e.type == "token" for e in events) >= stop_after_tokens:
                return events
    return events


def test_a_dropped_connection_resumes_every_remaining_token_exactly_once(relay):
    _, server = relay
    params = {"prompt": PROMPT, "token_delay": 0.02}
    with httpx.Client(timeout=30) as client:
        with client.stream("GET", f"{server.url}/chat", params=params) as response:
            first = read_events(response, stop_after_tokens=5)  # then the connection drops
        with client.stream("GET", f"{server.url}/chat", params=params, headers={"Last-Event-ID": first[-1].id}) as response:
            rest = read_events(response)
    ids = [e.id for e in first + rest]
    assert len(ids) == len(set(ids))
    text = "".join(json.loads(e.data)["text"] for e in first + rest if e.type == "token")
    assert text == FULL
    assert json.loads(rest[-1].data)["text"] == FULL


def test_a_client_disconnect_cancels_the_model_and_saves_the_partial_answer(relay, model):
    app, server = relay
    with httpx.Client(timeout=30) as client:
        with client.stream("GET", f"{server.url}/chat", params={"prompt": "long", "tokens": 5000}) as response:
            got = read_events(response, stop_after_tokens=3)
    stream_id = got[-1].id.split(".")[0]
    deadline = time.monotonic() + 5
    while app.state.registry.active() and time.monotonic() < deadline:
        time.sleep(0.02)
    assert app.state.registry.active() == []  # no producer task left behind
    assert model.last.prompt == "long" and model.last.status == "cancelled"
    assert model.last.tokens_sent < 5000
    assert app.state.saved_answers[stream_id].startswith("".join(reply_for("long", 3)))


def test_continue_from_finishes_the_same_answer(relay):
    _, server = relay
    partial = FULL[:40]
    done = events_of(httpx.get(f"{server.url}/chat", params={"prompt": PROMPT, "continue_from": partial}, timeout=30))[-1][1]
    assert done["complete"] and done["text"] == FULL


def test_a_server_side_drop_breaks_the_connection_and_resume_completes_it(relay):
    _, server = relay
    params = {"prompt": PROMPT, "token_delay": 0.02}
    with httpx.Client(timeout=30) as client:
        with client.stream("GET", f"{server.url}/chat", params=params) as response:
            decoder, first = Decoder(), []
            chunks = response.iter_raw()
            while sum(e.type == "token" for e in first) < 3:
                first += decoder.feed(next(chunks))
            stream_id = first[-1].id.split(".")[0]
            assert client.post(f"{server.url}/chat/{stream_id}/drop").status_code == 202
            with pytest.raises(httpx.RemoteProtocolError):
                for chunk in chunks:
                    first += decoder.feed(chunk)
            assert first[-1].type == "token"  # the stream broke before done
        with client.stream("GET", f"{server.url}/chat", params=params, headers={"Last-Event-ID": first[-1].id}) as response:
            rest = read_events(response)
    text = "".join(json.loads(e.data)["text"] for e in first + rest if e.type == "token")
    assert text == FULL
    assert httpx.post(f"{server.url}/chat/unknown/drop").status_code == 404
