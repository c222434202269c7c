"""helpers.cost: the parsers it compares agree, the exponent fit is exact on exact data, chunk stats come from usage."""

import json

from fastapi.responses import JSONResponse

from helpers.cost import (
    create_cost_app,
    fitted_exponent,
    framing_overhead,
    json_document,
    measure_route,
    model_chunks,
    parse_incrementally,
    reparse_every_chunk,
)
from helpers.embedded_model import reply_for
from helpers.kernel_server import serve
from helpers.sse import encode


def test_both_parsers_end_with_the_whole_document_and_the_incremental_one_fills_in_on_the_way():
    text = json_document(12)
    chunks = [text[i : i + 4] for i in range(0, len(text), 4)]
    assert reparse_every_chunk(chunks) == parse_incrementally(chunks) == json.loads(text)
    halfway = parse_incrementally(chunks[: len(chunks) // 2])
    assert 0 < len(halfway["items"]) < 12


def test_the_fitted_exponent_recovers_a_power_law():
    sizes = [1, 2, 4, 8, 16]
    assert abs(fitted_exponent(sizes, [3 * s**2 for s in sizes]) - 2) < 1e-9
    assert abs(fitted_exponent(sizes, [5.0] * 5)) < 1e-9


def test_chunk_stats_of_the_embedded_model_count_tokens_from_usage(model, run):
    stats = run(model_chunks("What is SSE?"))
    assert stats.chunks == reply_for("What is SSE?")
    assert stats.completion_tokens == len(stats.chunks) and stats.tokens_per_chunk == 1.0
    assert stats.wire_bytes > 10 * stats.text_bytes and stats.source.startswith("embedded model")


def test_framing_overhead_counts_utf8_bytes_of_each_framing():
    sizes = framing_overhead(["a", "é"])
    assert sizes["raw text"] == 3  # "é" is two bytes
    assert sizes["SSE data line"] == len(encode("a").encode()) + len(encode("é").encode())
    assert sizes["raw text"] < sizes["SSE data line"] < sizes["SSE, JSON per token"]


def test_measure_route_reads_both_routes_and_the_server_cpu_meter(run):
    tokens, pace = 6, {"token_delay": 0.1, "first_token_delay": 0.05}
    with serve(create_cost_app(), name="test-cost") as server:
        streamed = run(measure_route(server, "streamed", tokens=tokens, **pace))
        buffered = run(measure_route(server, "buffered", tokens=tokens, **pace))
    words = reply_for("What is SSE?", tokens)
    frames = "".join(encode(json.dumps({"text": w}), event="token") for w in words) + encode(
        "{}", event="done"
    )
    assert streamed.bytes == len(frames.encode())
    assert buffered.bytes == len(JSONResponse({"text": "".join(words)}).body)
    # the buffered body waits for every token: 0.05 s + 5 gaps of 0.1 s at least, by its own pacing
    assert buffered.ttfb >= 0.5 and streamed.ttfb < buffered.ttfb
    assert streamed.server_cpu > 0 and buffered.server_cpu > 0 and streamed.peak_memory == 0
    assert server.app.cpu_seconds == buffered.server_cpu  # the meter's own figure, for the last request
