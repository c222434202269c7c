def should_stream(expected_tokens, tokens_per_s, needs_whole_result):
    return not needs_whole_result and expected_tokens / tokens_per_s >= 1.0
