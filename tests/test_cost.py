"""helpers.cost: the parsers it compares agree, the exponent fit is exact on exact data, chunk stats come from usage."""

import json

from helpers.cost import (
    fitted_exponent,
    json_document,
    model_chunks,
    parse_incrementally,
    reparse_every_chunk,
)
from helpers.embedded_model import reply_for


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
