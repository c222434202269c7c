"""The SSE codec against the WHATWG rules, and differentially against httpx-sse."""

import itertools
import random

import httpx
import pytest
from httpx_sse import EventSource

from helpers.sse import Decoder, Event, comment, encode, parse


def test_encode_one_event_ends_with_blank_line():
    assert encode("hi") == "data: hi\n\n"
    assert encode("hi", event="token", id="7", retry=500) == "event: token\nid: 7\nretry: 500\ndata: hi\n\n"


@pytest.mark.parametrize("text", ["a\nb", "a\r\nb", "a\rb"])
def test_encode_splits_every_line_break_into_data_lines(text):
    assert encode(text) == "data: a\ndata: b\n\n"
    assert parse(encode(text)) == [Event("a\nb")]


def test_encode_keeps_empty_and_trailing_lines():
    assert parse(encode("")) == [Event("")]
    assert parse(encode("x\n")) == [Event("x\n")]


@pytest.mark.parametrize(
    "kwargs",
    [
        {"event": "a\nb"},
        {"event": "a\rb"},
        {"id": "1\n2"},
        {"id": "a\0b"},
        {"retry": -1},
        {"retry": 1.5},
        {"retry": "10"},
        {"retry": True},
    ],
)
def test_encode_rejects_values_that_would_corrupt_the_stream(kwargs):
    with pytest.raises(ValueError):
        encode("x", **kwargs)


def test_comment_is_ignored_by_the_decoder():
    assert comment() == ":\n\n"
    assert comment("ping") == ": ping\n\n"
    assert parse(comment("a\nb") + encode("x")) == [Event("x")]


# (stream, events, last_event_id, retry): each row one rule of the spec
SPEC_CASES = [
    ("data: a\n\n", [Event("a")], "", None),
    ("data:a\n\n", [Event("a")], "", None),  # the space after the colon is optional
    ("data:  a\n\n", [Event(" a")], "", None),  # only one space is removed
    ("data: a\ndata: b\n\n", [Event("a\nb")], "", None),
    ("data\n\n", [Event("")], "", None),  # a field without colon has an empty value
    ("data:\n\n", [Event("")], "", None),  # empty data still dispatches
    ("event: done\n\n", [], "", None),  # no data: never dispatched
    ("event: t\ndata: x\n\n", [Event("x", "t")], "", None),
    ("event:\ndata: x\n\n", [Event("x")], "", None),  # empty type means "message"
    (": comment\ndata: x\n\n", [Event("x")], "", None),
    ("foo: bar\ndata: x\n\n", [Event("x")], "", None),  # unknown fields are ignored
    (
        "id: 1\ndata: x\n\ndata: y\n\n",
        [Event("x", id="1"), Event("y", id="1")],
        "1",
        None,
    ),  # the id stays in force
    (
        "id: 1\ndata: x\n\nid\ndata: y\n\n",
        [Event("x", id="1"), Event("y")],
        "",
        None,
    ),  # an empty id resets it
    (
        "id: 1\ndata: x\n\nid: a\0b\ndata: y\n\n",
        [Event("x", id="1"), Event("y", id="1")],
        "1",
        None,
    ),  # id with NUL ignored
    ("id: 5\n\n", [], "5", None),  # the id is set even when nothing is dispatched
    ("retry: 1500\n\n", [], "", 1500),
    ("retry: 15x\n\n", [], "", None),
    ("retry: -1\n\n", [], "", None),
    ("retry:\n\n", [], "", None),
    ("data: a\r\n\r\ndata: b\r\rdata: c\n\n", [Event("a"), Event("b"), Event("c")], "", None),
    ("\ufeffdata: a\n\n", [Event("a")], "", None),  # a leading BOM is dropped
    ("\ufeff\ufeffdata: a\n\n", [], "", None),  # only one: the second makes an unknown field
    ("data: a\n\ndata: unfinished\n", [Event("a")], "", None),  # no blank line: discarded
    ("data: 你好\n\n", [Event("你好")], "", None),
]


@pytest.mark.parametrize("stream, events, last_id, retry", SPEC_CASES)
def test_decoder_follows_the_spec(stream, events, last_id, retry):
    decoder = Decoder()
    got = decoder.feed(stream.encode())
    got += decoder.close()
    assert got == events
    assert decoder.last_event_id == last_id
    assert decoder.retry == retry


def test_invalid_utf8_becomes_replacement_character():
    assert parse(b"data: \xff\n\n") == [Event("\ufffd")]


@pytest.mark.parametrize("stream", [case[0] for case in SPEC_CASES])
def test_every_split_point_gives_the_same_events(stream):
    raw = stream.encode()
    whole = parse(raw)
    for cut in range(len(raw) + 1):
        decoder = Decoder()
        assert decoder.feed(raw[:cut]) + decoder.feed(raw[cut:]) == whole, cut


def test_byte_by_byte_split_inside_characters_and_crlf():
    raw = "id: 1\r\nevent: 字\r\ndata: é😀\r\n\r\n".encode()
    decoder = Decoder()
    events = [e for byte in raw for e in decoder.feed(bytes([byte]))]
    assert events == [Event("é😀", "字", "1")]


def random_stream(rng: random.Random) -> str:
    """Events that each carry a data line: the part of the format where httpx-sse follows the spec."""
    pieces = ["a", "b", " ", ":", "é", "字", "😀", "x y"]
    newline = lambda: rng.choice(["\n", "\r\n", "\r"])  # noqa: E731
    out = []
    for _ in range(rng.randint(1, 6)):
        lines = []
        for _ in range(rng.randint(0, 3)):
            field = rng.choice(["event", "id", ": comment", "unknown"])
            lines.append(f"{field}: {''.join(rng.choices(pieces, k=rng.randint(0, 4)))}")
        lines += [
            f"data:{''.join(rng.choices(pieces, k=rng.randint(0, 5)))}" for _ in range(rng.randint(1, 3))
        ]
        rng.shuffle(lines)
        out.append("".join(line + newline() for line in lines) + newline())
    return "".join(out)


def httpx_sse_parse(raw: bytes, cuts: list[int]) -> list[Event]:
    """httpx-sse's public API over a response whose body arrives in pieces cut at `cuts` (characters)."""
    text = raw.decode()
    pieces = [text[start:end].encode() for start, end in itertools.pairwise([0, *cuts, len(text)])]
    response = httpx.Response(200, headers={"content-type": "text/event-stream"}, content=iter(pieces))
    return [Event(sse.data, sse.event or "message", sse.id) for sse in EventSource(response).iter_sse()]


def test_decoder_agrees_with_httpx_sse_on_generated_streams():
    rng = random.Random(2026)
    for _ in range(500):
        text = random_stream(rng)
        cuts = sorted(rng.sample(range(1, len(text)), k=min(3, len(text) - 1)))
        # httpx-sse splits text, our decoder bytes: cut both at the same characters
        byte_cuts = [len(text[:c].encode()) for c in cuts]
        decoder, raw, ours = Decoder(), text.encode(), []
        for start, end in zip([0, *byte_cuts], [*byte_cuts, len(raw)]):
            ours += decoder.feed(raw[start:end])
        assert ours == httpx_sse_parse(text.encode(), cuts), repr(text)
