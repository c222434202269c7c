"""Notebook 01: `sentences(tokens)`, each sentence of a token stream as soon as it is complete.

A voice assistant speaks an answer sentence by sentence while the model is still writing. The
check feeds token streams whose sentence ends fall anywhere: at the end of a token, inside one,
two in one token, in Chinese, and none at the very end. It counts the tokens the stream has
produced when each sentence comes out: a sentence must come out before the next token is asked
for, which only a generator that keeps its place (and its unfinished text) between tokens does.
"""

from __future__ import annotations

from .common import async_generator, feed, passed, require, short

__all__ = ["check_sentences", "CASES"]

# (tokens, the sentences, and for each one the number of tokens produced when it was complete)
CASES = [
    (
        [
            "Stream",
            "ing is",
            " fast.",
            " It shows",
            " the first",
            " words early! Does",
            " it",
            " help?",
            " Yes",
        ],
        ["Streaming is fast.", "It shows the first words early!", "Does it help?", "Yes"],
        [3, 6, 8, 9],
    ),
    (["流式", "输出很", "快。它", "先显示", "第一句。"], ["流式输出很快。", "它先显示第一句。"], [3, 5]),
    (["One. Two.", " Three."], ["One.", "Two.", "Three."], [1, 1, 2]),
    (["Done.", "  ", " "], ["Done."], [1]),
    ([], [], []),
]


async def _run(sentences, tokens: list[str]) -> list[tuple[str, int]]:
    # tokens arrive over time, as from a model
    return await feed(sentences, tokens, f"sentences(...) on the tokens {short(tokens, 120)}", pause=0.005)


async def check_sentences(sentences) -> None:
    """01: `sentences(tokens)` yields each sentence once it is complete, and the rest at the end."""
    async_generator(sentences, "sentences")
    for tokens, expected, complete_at in CASES:
        out = await _run(sentences, tokens)
        got = [sentence for sentence, _ in out]
        require(
            got == expected,
            f"for the tokens {short(tokens, 120)} you yielded {short(got, 120)}; expected {short(expected, 120)}.",
        )
        for (sentence, produced), due in zip(out, complete_at):
            require(
                produced <= due,
                f"you yielded {sentence!r} when the stream had produced {produced} of its {len(tokens)} tokens, "
                f"but its end arrived in token {due}: a voice assistant would have stayed silent "
                f"for {produced - due} more token{'s' if produced - due != 1 else ''}.",
            )
    passed("every sentence came out as soon as its last token arrived, and the unfinished one at the end")
