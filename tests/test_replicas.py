"""Two relay replicas as separate uvicorn processes: resume on the other one works only with a shared store."""

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from helpers.balancer import balance
from helpers.embedded_model import reply_for
from helpers.local_service import free_port
from helpers.replicas import start_replica
from helpers.sse import Decoder, parse

PROMPT = "What is SSE?"
CHINESE = "请解释流式输出。" * 625  # 5,000 characters


def store_url(kind, request, tmp_path_factory) -> str:
    if kind == "sqlite":
        return f"sqlite://{tmp_path_factory.mktemp('store')}/streams.db"
    return request.getfixturevalue("redis_url") if kind == "redis" else "memory"


@pytest.fixture(scope="module", params=["sqlite", "redis"])
def shared(request, tmp_path_factory):
    """Replicas A and B sharing one store."""
    url = store_url(request.param, request, tmp_path_factory)
    with start_replica("test-replica-a", url) as a, start_replica("test-replica-b", url) as b:
        yield a, b


@pytest.fixture(scope="module")
def separate():
    """Replicas A and B, each with its own memory store."""
    with (
        start_replica("test-replica-memory-a", "memory") as a,
        start_replica("test-replica-memory-b", "memory") as b,
    ):
        yield a, b


def create(replica, **body) -> str:
    response = httpx.post(f"{replica.url}/streams", json={"prompt": PROMPT, **body}, timeout=30)
    assert response.status_code == 201, response.text
    return response.json()["id"]


def drop_mid_stream(replica, stream_id, tokens: int) -> list:
    """Follow on `replica` until `tokens` tokens arrived, then have the replica break the connection."""
    events, decoder = [], Decoder()
    with httpx.Client(timeout=30) as client:
        with client.stream("GET", f"{replica.url}/streams/{stream_id}") as response:
            chunks = response.iter_raw()
            while sum(e.type == "token" for e in events) < tokens:
                events += decoder.feed(next(chunks))
            assert client.post(f"{replica.url}/streams/{stream_id}/drop").json()["dropped"] == 1
            with pytest.raises(httpx.RemoteProtocolError):
                for chunk in chunks:
                    events += decoder.feed(chunk)
    assert events[-1].type == "token"  # broken before the end
    return events


def text_of(events) -> str:
    return "".join(json.loads(e.data)["text"] for e in events if e.type == "token")


@pytest.mark.parametrize("prompt", [PROMPT, CHINESE], ids=["english", "chinese-5000"])
def test_created_on_a_dropped_and_resumed_on_b_every_token_once(shared, prompt):
    a, b = shared
    stream_id = create(a, prompt=prompt, tokens=60, token_delay=0.03)
    first = drop_mid_stream(a, stream_id, tokens=5)
    resumed = httpx.get(f"{b.url}/streams/{stream_id}", headers={"Last-Event-ID": first[-1].id}, timeout=30)
    assert resumed.status_code == 200 and resumed.headers["x-relay-replica"] == b.name
    rest = parse(resumed.content)
    events = first + rest
    ids = [int(e.id.split(".")[1]) for e in events]
    assert ids == list(range(1, len(events) + 1))  # every event exactly once, in order
    done = json.loads(rest[-1].data)
    assert rest[-1].type == "done" and done["complete"]
    assert text_of(events) == done["text"] == "".join(reply_for(prompt, 60))  # the model's reply


def test_a_stop_sent_to_b_stops_the_generation_on_a(shared):
    a, b = shared
    stream_id = create(a, tokens=5000, token_delay=0.01)
    stopped = httpx.post(f"{b.url}/streams/{stream_id}/stop", timeout=30).json()
    assert stopped["done"]["reason"] == "stopped" and stopped["done"]["tokens"] < 5000
    events = parse(httpx.get(f"{a.url}/streams/{stream_id}", timeout=30).content)
    assert json.loads(events[-1].data)["reason"] == "stopped"


def test_with_memory_stores_b_does_not_know_the_stream(separate):
    a, b = separate
    stream_id = create(a, token_delay=0.03)
    first = drop_mid_stream(a, stream_id, tokens=5)
    resumed = httpx.get(f"{b.url}/streams/{stream_id}", headers={"Last-Event-ID": first[-1].id})
    assert resumed.status_code == 404  # loud, and EventSource stops: not a silent 204
    assert resumed.headers["content-type"] == "application/json"


def test_a_replica_that_shuts_down_ends_its_streams_as_interrupted(tmp_path):
    url = f"sqlite://{tmp_path}/streams.db"
    with start_replica("test-replica-c", url) as c, start_replica("test-replica-d", url) as d:
        stream_id = create(c, tokens=5000, token_delay=0.01)
        c.stop()  # SIGTERM: uvicorn's shutdown runs the relay's, which ends the stream
        events = parse(httpx.get(f"{d.url}/streams/{stream_id}", timeout=30).content)
    kinds = [e.type for e in events]
    assert kinds[-2:] == ["stream_error", "done"]
    assert json.loads(events[-2].data)["code"] == "interrupted"
    assert json.loads(events[-1].data)["reason"] == "interrupted"


def test_the_replica_command_from_the_docstring_works_in_a_shell(tmp_path):
    port = free_port()
    env = {
        **os.environ,
        "STREAM_STORE": f"sqlite://{tmp_path}/s.db",
        "PYTHONPATH": str(Path(__file__).resolve().parent.parent),
    }
    env.pop("OPENAI_API_KEY", None)
    uvicorn = Path(sys.executable).parent / "uvicorn"
    command = f"exec {uvicorn} --factory helpers.chat_app:create_app --host 127.0.0.1 --port {port}"
    process = subprocess.Popen(
        command, shell=True, env=env, cwd=tmp_path, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            assert process.poll() is None, "the replica exited"
            try:
                response = httpx.post(f"http://127.0.0.1:{port}/streams", json={"prompt": PROMPT}, timeout=5)
                break
            except httpx.TransportError:  # not listening yet
                assert time.monotonic() < deadline, "the replica did not start"
                time.sleep(0.1)
        stream_id = response.json()["id"]
        events = parse(httpx.get(f"http://127.0.0.1:{port}/streams/{stream_id}", timeout=30).content)
        assert json.loads(events[-1].data)["text"] == "".join(reply_for(PROMPT))
    finally:
        process.terminate()
        process.wait(10)


def first_follow_status(balancer, fresh_connections: bool = True) -> int:
    """Create a stream through the balancer, then follow it through the balancer on a new connection."""
    with httpx.Client(timeout=30) as client:
        stream_id = client.post(f"{balancer.url}/streams", json={"prompt": "hi", "tokens": 3}).json()["id"]
    with httpx.Client(timeout=30) as client:
        return client.get(f"{balancer.url}/streams/{stream_id}").status_code


def test_behind_a_round_robin_balancer_memory_stores_lose_streams_and_sticky_sessions_hide_it(
    separate, shared
):
    with balance([r.port for r in separate], name="test-balancer") as balancer:
        statuses = [first_follow_status(balancer) for _ in range(4)]
        assert statuses == [404] * 4  # create on one replica, follow on the other: every time
    with balance([r.port for r in separate], name="test-balancer", sticky=True) as balancer:
        assert [first_follow_status(balancer) for _ in range(4)] == [200] * 4
        assert {balancer.served_by(r.port) for r in separate} == {0, 8}  # one replica got everything
    with balance([r.port for r in shared], name="test-balancer") as balancer:
        assert [first_follow_status(balancer) for _ in range(4)] == [200] * 4
        assert balancer.served_by(shared[0].port) == balancer.served_by(shared[1].port) == 4
