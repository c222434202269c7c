"""helpers.sse.Decoder against a real browser's EventSource, on generated streams."""

import json
import random

import pytest
from fastapi import FastAPI
from fastapi.responses import HTMLResponse, Response

from helpers.kernel_server import serve
from helpers.sse import Decoder

TYPES = ["message", "a", "b"]


def generated_stream(rng: random.Random) -> bytes:
    """Well-formed and odd lines alike: every rule of the parser gets exercised."""
    newline = lambda: rng.choice(["\n", "\r\n", "\r"])  # noqa: E731
    words = ["x", " y", "é", "字", "😀", ":", "  z", ""]
    lines = []
    for _ in range(rng.randint(2, 16)):
        kind = rng.choice(
            ["data"] * 5 + ["event", "id", "id-nul", "retry", "comment", "unknown", "nocolon"] + ["blank"] * 4
        )
        value = "".join(rng.choices(words, k=rng.randint(0, 3)))
        lines.append(
            {
                "data": f"data:{value}",
                "event": f"event: {rng.choice([*TYPES, ''])}",
                "id": f"id: {rng.randint(0, 99)}",
                "id-nul": "id: 1\0 2",
                "retry": f"retry: {rng.choice(['100', 'x1', ''])}",
                "comment": f":{value}",
                "unknown": f"foo: {value}",
                "nocolon": rng.choice(["data", "event", "id"]),
                "blank": "",
            }[kind]
        )
    text = "".join(line + newline() for line in lines)
    if rng.random() < 0.2:
        text = "\ufeff" + text
    if rng.random() < 0.3:
        text += "data: unfinished"  # no blank line: must be discarded
    return text.encode()


def expected(raw: bytes) -> list:
    decoder = Decoder()
    events = decoder.feed(raw) + decoder.close()
    return [[e.type, e.data, e.id] for e in events]


PAGE = """<!doctype html><meta charset="utf-8"><script>
window.results = {};
async function collect(n, types) {
  return new Promise((resolve) => {
    const got = [];
    const source = new EventSource("raw/" + n);
    for (const type of types) source.addEventListener(type, (e) => got.push([e.type, e.data, e.lastEventId]));
    source.onerror = () => { source.close(); resolve(got); };  // the stream ended
  });
}
</script>"""


@pytest.fixture(scope="module")
def streams_server():
    rng = random.Random(7)
    streams = [generated_stream(rng) for _ in range(80)]
    streams += [
        b"event: done\n\n",
        b"event: token\ndata: hi\n\nevent: done\ndata:\n\n",
        b"data: a\n\ndata: last",
    ]
    app = FastAPI()

    @app.get("/raw/{n}")
    def raw(n: int):
        return Response(streams[n], media_type="text/event-stream")

    @app.get("/", response_class=HTMLResponse)
    def page():
        return PAGE

    with serve(app, name="browser-sse-streams") as handle:
        yield handle, streams


@pytest.mark.browser
def test_decoder_matches_chromium_eventsource(page, streams_server):
    server, streams = streams_server
    page.goto(server.url + "/")
    mismatches = []
    for n, raw in enumerate(streams):
        got = page.evaluate("([n, types]) => collect(n, types)", [n, [*TYPES, "token", "done"]])
        if got != expected(raw):
            mismatches.append((raw, got, expected(raw)))
    assert not mismatches, json.dumps([repr(m) for m in mismatches[:3]], indent=1)


@pytest.mark.browser
def test_a_done_event_without_data_never_reaches_the_page(page, streams_server):
    server, streams = streams_server
    page.goto(server.url + "/")
    bare = streams.index(b"event: done\n\n")
    assert page.evaluate("([n]) => collect(n, ['done'])", [bare]) == []
    with_data = bare + 1
    assert page.evaluate("([n]) => collect(n, ['token', 'done'])", [with_data]) == [
        ["token", "hi", ""],
        ["done", "", ""],
    ]
