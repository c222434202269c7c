"""The Chinese interview notes this course started from, kept verbatim, and the code quoted in them.

`source/interview_notes.zh.md` is a byte-for-byte copy of the notes (its SHA-256 is checked by
the tests), so a page or a handler that claims to run the notes' code "as written" can be
compared with the notes themselves, and every Chinese quote in the course can be found in them.

The notes put their answers in Markdown block quotes, so their code blocks are prefixed with
`> `. That prefix is Markdown, not code: `code_block` strips it and nothing else.
"""

from __future__ import annotations

import hashlib
import re
from functools import cache
from pathlib import Path

__all__ = ["PATH", "SHA256", "text", "quote", "code_block", "handler_code", "client_script"]

PATH = Path(__file__).with_name("source") / "interview_notes.zh.md"
SHA256 = "039941ba6b094ec5b737e03414e80f2653c609db310143d0d83e662d598e63f7"


@cache
def text() -> str:
    """The notes, as written."""
    return PATH.read_text(encoding="utf-8")


def digest() -> str:
    return hashlib.sha256(PATH.read_bytes()).hexdigest()


def quote(words: str) -> str:
    """`words`, after checking that the notes contain them exactly: a quote that is not in the notes is an error."""
    if words not in text():
        raise ValueError(f"not in the source material, as written: {words!r}")
    return words


_FENCE = re.compile(r"^> ```(\w*)\n(.*?)^> ```$", re.S | re.M)


def code_block(language: str) -> str:
    """The one fenced block of `language` ("python", "javascript"), without the block quote's `> `."""
    blocks = [body for lang, body in _FENCE.findall(text()) if lang == language]
    if len(blocks) != 1:
        raise LookupError(f"expected one {language} block in the source material, found {len(blocks)}")
    return "".join(
        line[2:] if line.startswith("> ") else line.lstrip(">")
        for line in blocks[0].splitlines(keepends=True)
    )


def handler_code() -> str:
    """Question 3's backend: a FastAPI POST route whose generator sends `event: error` and `done`."""
    return code_block("python")


def client_script() -> str:
    """Question 3's frontend: an `EventSource` client that listens for `error` and closes on `done`."""
    return code_block("javascript")
