"""The relay's HTTP contract over real HTTP, in one process: create, follow, resume, stop, errors, limits."""

import json
import time

import httpx
import pytest

from helpers.chat_app import (
    MAX_BODY_BYTES,
    MAX_CONTINUE_CHARS,
    MAX_PROMPT_CHARS,
    STREAM_ID,
    USER_MESSAGES,
    create_app,
)
from helpers.embedded_model import reply_for
from helpers.kernel_server import serve
from helpers.sse import Decoder, parse
from helpers.stream_store import MemoryStore, SQLiteStore

from .support import serving

PROMPT = "What is SSE?"
FULL = "".join(reply_for(PROMPT))
SECRET = "client-marker-7f3a"  # sent by the client in a prompt: must never come back in an error event


@pytest.fixture(scope="module")
def relay(model):
    yield from serving(create_app(), "test-relay")


def create(server, **body) -> str:
    response = httpx.post(f"{server.url}/streams", json={"prompt": PROMPT, **body})
    assert response.status_code == 201, response.text
    return response.json()["id"]


def events_of(response):
    return [(e.type, json.loads(e.data), e.id) for e in parse(response.content)]


def follow(server, stream_id, **headers):
    return httpx.get(f"{server.url}/streams/{stream_id}", headers=headers, timeout=30)


class EventReader:
    """Reads a streamed response's events in parts: some tokens now, the rest later."""

    def __init__(self, response) -> None:
        self.chunks, self.decoder = response.iter_raw(), Decoder()

    def read(self, stop_after_tokens=None) -> list:
        events = []
        for chunk in self.chunks:
            for event in self.decoder.feed(chunk):
                events.append(event)
                if stop_after_tokens and sum(e.type == "token" for e in events) >= stop_after_tokens:
                    return events
        return events


def read_events(response, stop_after_tokens=None):
    return EventReader(response).read(stop_after_tokens)


def token_text(events) -> str:
    return "".join(json.loads(e.data)["text"] for e in events if e.type == "token")


def test_post_creates_a_stream_and_get_follows_it(relay):
    _, server = relay
    response = httpx.post(f"{server.url}/streams", json={"prompt": PROMPT})
    assert response.status_code == 201
    body = response.json()
    assert STREAM_ID.fullmatch(body["id"])
    assert body["url"] == f"/streams/{body['id']}" == response.headers["location"]
    followed = follow(server, body["id"])
    assert followed.headers["content-type"].startswith("text/event-stream")
    assert followed.headers["cache-control"] == "no-cache"
    events = events_of(followed)
    kinds = [kind for kind, _, _ in events]
    assert kinds == ["step", "step"] + ["token"] * len(reply_for(PROMPT)) + ["done"]
    assert events[0][1]["step"] == "retrieval" and events[0][1]["title"]
    assert "".join(data["text"] for kind, data, _ in events if kind == "token") == FULL
    assert events[-1][1] == {**events[-1][1], "reason": "complete", "complete": True, "text": FULL}
    assert [event_id for _, _, event_id in events] == [f"{body['id']}.{n}" for n in range(1, len(events) + 1)]


def test_post_chat_streams_the_events_in_its_own_response_without_ids(relay):
    _, server = relay
    response = httpx.post(
        f"{server.url}/chat", json={"prompt": PROMPT}, headers={"Accept": "text/event-stream"}, timeout=30
    )
    events = events_of(response)
    assert events[-1][0] == "done" and events[-1][1]["text"] == FULL
    assert {event_id for _, _, event_id in events} == {""}  # nothing to resume with: this route cannot resume


BAD_BODIES = [
    pytest.param({}, 422, id="no prompt"),
    pytest.param({"prompt": ""}, 422, id="empty prompt"),
    pytest.param({"prompt": " \n "}, 422, id="blank prompt"),
    pytest.param({"prompt": ["not", "text"]}, 422, id="prompt not a string"),
    pytest.param({"prompt": "x", "tokens": "many"}, 422, id="bad lab option"),
    pytest.param({"prompt": "x", "fault": "nope"}, 422, id="unknown fault"),
    pytest.param({"prompt": "x", "surprise": 1}, 422, id="unknown field"),
    pytest.param({"prompt": "x" * (MAX_PROMPT_CHARS + 1)}, 413, id="prompt too long"),
    pytest.param(
        {"prompt": "x", "continue_from": "y" * (MAX_CONTINUE_CHARS + 1)}, 413, id="continue_from too long"
    ),
]


@pytest.mark.parametrize("path", ["/streams", "/chat"])
@pytest.mark.parametrize("body, status", BAD_BODIES)
def test_bad_input_gets_a_4xx_json_answer_before_any_stream(relay, model, path, body, status):
    _, server = relay
    before = len(model.requests)
    response = httpx.post(f"{server.url}{path}", json=body)
    assert response.status_code == status
    assert response.headers["content-type"] == "application/json"
    assert "detail" in response.json()
    assert len(model.requests) == before  # the model was never called


@pytest.mark.parametrize("path", ["/streams", "/chat"])
def test_a_body_that_is_not_json_or_too_large_is_refused_before_any_stream(relay, path):
    _, server = relay
    url = f"{server.url}{path}"
    assert httpx.post(url, data={"prompt": PROMPT}).status_code == 415  # a form, not JSON
    assert (
        httpx.post(url, content=b'{"prompt": ', headers={"content-type": "application/json"}).status_code
        == 422
    )
    big = json.dumps({"prompt": "x" * MAX_BODY_BYTES}).encode()
    assert httpx.post(url, content=big, headers={"content-type": "application/json"}).status_code == 413

    def chunks():  # no Content-Length: the size is counted as the body arrives
        for start in range(0, len(big), 65536):
            yield big[start : start + 65536]

    response = httpx.post(url, content=chunks(), headers={"content-type": "application/json"})
    assert response.status_code == 413 and response.headers["content-type"] == "application/json"


def test_a_5000_character_chinese_prompt_streams(relay):
    _, server = relay
    prompt = "流式输出" * 1250
    stream_id = create(server, prompt=prompt)
    events = events_of(follow(server, stream_id))
    assert events[-1][1]["complete"] and events[-1][1]["text"] == "".join(reply_for(prompt))


@pytest.mark.parametrize(
    "fault, code",
    [
        ("error_after", "model_error"),
        ("drop_after", "upstream_disconnected"),
        ("stall_after", "timeout"),
        ("rate_limit", "rate_limited"),
        ("server_error", "model_error"),
    ],
)
def test_failures_are_a_user_safe_error_event_then_done_with_the_partial_text(relay, model, fault, code):
    app, server = relay
    created = httpx.post(
        f"{server.url}/streams",
        json={"prompt": f"{PROMPT} {SECRET}", "fault": fault, "fault_at": 4, "timeout": 0.5},
    )
    request_id = created.headers["x-request-id"]
    events = events_of(follow(server, created.json()["id"]))
    assert [kind for kind, _, _ in events[-2:]] == ["stream_error", "done"]
    error, done = events[-2][1], events[-1][1]
    assert error["code"] == code and error["message"] == USER_MESSAGES[code]
    assert error["request_id"] == request_id
    assert set(error) <= {"code", "message", "request_id", "retry_after"}
    assert SECRET not in json.dumps(error)
    assert done["complete"] is False and done["reason"] == "error"
    sent = "".join(data["text"] for kind, data, _ in events if kind == "token")
    assert done["text"] == sent and FULL.startswith(sent)
    if fault in ("error_after", "drop_after", "stall_after"):
        assert len(sent) > 0
    if fault == "rate_limit":
        assert error["retry_after"] == 2
    if fault == "stall_after":
        time.sleep(0.1)
        assert model.last.status == "cancelled"  # the timeout cancelled the upstream request
    logged = [line for line in app.state.relay.server_log if request_id in line and "failed" in line]
    assert logged and "Error" in logged[0]  # the exception's type and text went to the server log


def test_an_internal_error_keeps_its_details_in_the_server_log(model):
    class Broken:
        openai_api_base = None

        def astream(self, messages, **options):
            raise RuntimeError(f"connection string postgres://admin:{SECRET}@db")

    app = create_app(lambda: Broken())
    with serve(app, name="test-relay-broken") as server:
        created = httpx.post(f"{server.url}/streams", json={"prompt": PROMPT})
        events = events_of(follow(server, created.json()["id"]))
    error = events[-2][1]
    assert error == {
        "code": "internal_error",
        "message": USER_MESSAGES["internal_error"],
        "request_id": created.headers["x-request-id"],
    }
    assert any(SECRET in line and "RuntimeError" in line for line in app.state.relay.server_log)


@pytest.mark.parametrize("resume_with", ["header", "query"])
def test_last_event_id_resumes_exactly_after_that_event(relay, resume_with):
    _, server = relay
    stream_id = create(server, token_delay=0.02)
    with httpx.Client(timeout=30) as client:
        with client.stream("GET", f"{server.url}/streams/{stream_id}") as response:
            first = read_events(response, stop_after_tokens=5)  # then the connection drops
        last = first[-1].id
        options = (
            {"headers": {"Last-Event-ID": last}}
            if resume_with == "header"
            else {"params": {"lastEventId": last}}
        )
        with client.stream("GET", f"{server.url}/streams/{stream_id}", **options) as response:
            rest = read_events(response)
    assert int(rest[0].id.split(".")[1]) == int(last.split(".")[1]) + 1
    ids = [e.id for e in first + rest]
    assert len(ids) == len(set(ids))
    assert token_text(first + rest) == FULL
    assert json.loads(rest[-1].data)["text"] == FULL


def test_without_last_event_id_a_reload_replays_from_the_start(relay):
    _, server = relay
    stream_id = create(server, token_delay=0.02)
    with httpx.Client(timeout=30) as client:
        with client.stream("GET", f"{server.url}/streams/{stream_id}") as response:
            read_events(response, stop_after_tokens=5)
        reloaded = parse(client.get(f"{server.url}/streams/{stream_id}").content)  # opened mid-stream
    assert [e.type for e in reloaded[:3]] == ["step", "step", "token"]
    assert token_text(reloaded) == FULL


def test_a_finished_stream_answers_204_an_unknown_one_404_a_foreign_id_400(relay):
    _, server = relay
    stream_id = create(server, prompt="hi")
    last_id = events_of(follow(server, stream_id))[-1][2]
    assert follow(server, stream_id, **{"Last-Event-ID": last_id}).status_code == 204
    for unknown in ["0" * 32, "gone", "../etc"]:
        response = httpx.get(f"{server.url}/streams/{unknown}")
        assert response.status_code == 404 and response.headers["content-type"] == "application/json"
    other = create(server, prompt="hi")
    for bad in [f"{other}.3", "nonsense", f"{stream_id}.x", f"{stream_id}.9999"]:
        assert follow(server, stream_id, **{"Last-Event-ID": bad}).status_code == 400


def test_a_dropped_connection_does_not_stop_the_generation(relay, model):
    _app, server = relay
    stream_id = create(server, prompt="a long answer", tokens=60, token_delay=0.01)
    with httpx.Client(timeout=30) as client:
        with client.stream("GET", f"{server.url}/streams/{stream_id}") as response:
            read_events(response, stop_after_tokens=3)  # the client leaves
    done = events_of(follow(server, stream_id))[-1][1]  # comes back later: the answer is complete
    assert done["reason"] == "complete" and done["tokens"] == 60
    assert model.last.prompt == "a long answer" and model.last.status == "finished"


def test_stop_cancels_the_generation_and_ends_the_stream_as_stopped(relay, model):
    app, server = relay
    stream_id = create(server, prompt="a long answer", tokens=5000, token_delay=0.01)
    with httpx.Client(timeout=30) as client:
        with client.stream("GET", f"{server.url}/streams/{stream_id}") as response:
            reader = EventReader(response)
            first = reader.read(stop_after_tokens=3)
            stopped = client.post(f"{server.url}/streams/{stream_id}/stop").json()
            rest = reader.read()
    assert stopped["done"]["reason"] == "stopped"
    done = json.loads(rest[-1].data)
    assert rest[-1].type == "done" and done["reason"] == "stopped" and done["complete"] is False
    assert done["text"] == token_text(first + rest) and 3 <= done["tokens"] < 5000
    time.sleep(0.1)
    assert model.last.status == "cancelled" and model.last.tokens_sent < 5000
    assert stream_id not in app.state.relay.active()  # no producer task left behind
    again = httpx.post(f"{server.url}/streams/{stream_id}/stop").json()
    assert again["done"]["reason"] == "stopped"  # stopping twice is harmless
    assert httpx.post(f"{server.url}/streams/{'0' * 32}/stop").status_code == 404


def test_a_client_leaving_post_chat_stops_the_model(relay, model):
    _, server = relay
    with httpx.Client(timeout=30) as client:
        with client.stream("POST", f"{server.url}/chat", json={"prompt": "long", "tokens": 5000}) as response:
            read_events(response, stop_after_tokens=3)
    deadline = time.monotonic() + 5
    while model.last.status == "running" and time.monotonic() < deadline:
        time.sleep(0.02)
    assert model.last.prompt == "long" and model.last.status == "cancelled"


def test_continue_from_finishes_the_same_answer(relay):
    _, server = relay
    stream_id = create(server, continue_from=FULL[:40])
    events = events_of(follow(server, stream_id))
    assert "step" not in [kind for kind, _, _ in events]  # the documents were shown the first time
    assert events[-1][1]["complete"] and events[-1][1]["text"] == FULL


def test_a_server_side_drop_breaks_the_connection_and_resume_completes_it(relay):
    _, server = relay
    stream_id = create(server, token_delay=0.02)
    with httpx.Client(timeout=30) as client:
        with client.stream("GET", f"{server.url}/streams/{stream_id}") as response:
            decoder, first = Decoder(), []
            chunks = response.iter_raw()
            while sum(e.type == "token" for e in first) < 3:
                first += decoder.feed(next(chunks))
            dropped = client.post(f"{server.url}/streams/{stream_id}/drop")
            assert dropped.status_code == 202 and dropped.json()["dropped"] == 1
            with pytest.raises(httpx.RemoteProtocolError):
                for chunk in chunks:
                    first += decoder.feed(chunk)
            assert first[-1].type == "token"  # the stream broke before done
        with client.stream(
            "GET", f"{server.url}/streams/{stream_id}", headers={"Last-Event-ID": first[-1].id}
        ) as response:
            rest = read_events(response)
    assert token_text(first + rest) == FULL
    assert httpx.post(f"{server.url}/streams/{'0' * 32}/drop").status_code == 404


def test_a_follower_behind_retention_is_told_with_a_gap_event(model):
    """Retention of 5 events: a reconnect from event 2 after the end, and a follower that reads too rarely."""
    with serve(create_app(store=MemoryStore(retain=5)), name="test-relay-gap") as server:
        stream_id = create(server)
        events = events_of(follow(server, stream_id))
        assert events[0][0] == "step" and events[-1][0] == "done"
        late = events_of(follow(server, stream_id, **{"Last-Event-ID": f"{stream_id}.2"}))
    # On a busy machine even the first follower may fall behind 5 events (it then gets a gap of its
    # own), so the expected cursor comes from the last event's id, not from how many it received.
    last = int(events[-1][2].split(".")[1])
    kinds = [kind for kind, _, _ in late]
    assert kinds == ["stream_error"] + ["token"] * 4 + ["done"]
    assert late[0][1]["code"] == "gap" and late[0][2] == f"{stream_id}.{last - 5}"
    assert [event_id for _, _, event_id in late[1:]] == [
        f"{stream_id}.{n}" for n in range(last - 4, last + 1)
    ]
    assert late[-1][1]["text"] == FULL  # done still carries the whole text


def test_a_follower_that_reads_less_often_than_retention_allows_gets_gaps(model, tmp_path):
    # keeps 5 events; looks twice a second
    store = SQLiteStore(tmp_path / "s.db", retain=5, poll_interval=0.5)
    with serve(create_app(store=store), name="test-relay-slow") as server:
        stream_id = create(server, tokens=200, token_delay=0.005)  # writes about 200 events a second
        events = events_of(follow(server, stream_id))
    gaps = [data for kind, data, _ in events if kind == "stream_error"]
    assert gaps and all(gap["code"] == "gap" for gap in gaps)
    assert events[-1][1]["tokens"] == 200 and events[-1][1]["complete"]
    ids = [int(event_id.split(".")[1]) for _, _, event_id in events]
    assert ids == sorted(ids) and len(ids) == len(set(ids))  # the cursor only moves forward
