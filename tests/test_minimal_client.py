"""Notebook 11's hand-written client, as the notebook defines it, against httpx-sse on the same bytes."""

import httpx
import nbformat
import pytest
from httpx_sse import aconnect_sse

from helpers import course

STREAMS = {
    "a token whose JSON is {}": b'data: "Hello"\n\ndata: {}\n\nevent: done\ndata: {}\n\n',
    "multi-line data and a comment": b": ping\n\ndata: two\ndata: lines\n\nevent: done\ndata:\n\n",
    "CRLF and no space after the colon": b"event:token\r\ndata:x\r\n\r\nevent: done\r\ndata: {}\r\n\r\n",
    "an event with no data is not dispatched": b"event: token\n\ndata: kept\n\nevent: done\ndata: {}\n\n",
    "an unfinished last event is dropped": b"data: a\n\ndata: never ends",
}


@pytest.fixture(scope="module")
def read_events():
    path = course.by_number("11").path
    cells = [c.source for c in nbformat.read(path, as_version=4).cells if "async def read_events" in c.source]
    assert len(cells) == 1, "notebook 11 defines read_events in one cell"
    namespace = {}
    exec(cells[0], namespace)
    return namespace["read_events"]


def client_for(body: bytes) -> httpx.AsyncClient:
    transport = httpx.MockTransport(
        lambda request: httpx.Response(200, content=body, headers={"content-type": "text/event-stream"})
    )
    return httpx.AsyncClient(transport=transport)


async def by_hand(read_events, body):
    async with client_for(body) as client, client.stream("GET", "http://test/") as response:
        return [event async for event in read_events(response.aiter_lines())]


async def by_httpx_sse(body):
    async with client_for(body) as client, aconnect_sse(client, "GET", "http://test/") as source:
        return [
            (sse.event, sse.data) async for sse in source.aiter_sse() if sse.data or sse.event != "message"
        ]


def test_the_minimal_client_keeps_a_token_whose_json_is_empty(read_events, run):
    events = run(by_hand(read_events, STREAMS["a token whose JSON is {}"]))
    assert events == [("message", '"Hello"'), ("message", "{}"), ("done", "{}")]


@pytest.mark.parametrize("name", STREAMS)
def test_the_minimal_client_reads_what_httpx_sse_reads(read_events, run, name):
    expected = run(by_httpx_sse(STREAMS[name]))
    if name == "an event with no data is not dispatched":
        # httpx-sse dispatches it; browsers do not (notebook 02)
        expected = [e for e in expected if e != ("token", "")]
    assert run(by_hand(read_events, STREAMS[name])) == expected
