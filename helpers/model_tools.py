"""Which tools the embedded model calls, and with what arguments: a documented, deterministic rule.

**Keywords.** A tool's keywords are the words of its name (split at `_`, `-` and camelCase),
without filler words (get, set, run, tool, ...). A word of the question *names* the tool when
its first five letters equal a keyword's first five: "calculate" names `calculator`,
"weather" names `get_weather`, "docs" names `search_docs`.

**Which calls** (the question is the last user message; "done" means a tool that already has a
`role: "tool"` result after that question):

    tool_choice "none", or no tools       no call; the model answers in text
    tool_choice {"function": {"name"}}    that tool, every time (forced, as the real API does)
    tool_choice "auto" (the default)      every named tool not yet done, in the order the question
                                          names them; none left: answer in text
    tool_choice "required"                as "auto"; with none left, the first named tool (or the
                                          first tool) again: "required" always calls
    parallel_tool_calls false             only the first of those calls per reply

**Arguments** fill the tool's `parameters` schema (see `helpers.schema_values`). When the
question names the tool, strings are the words after the tool's keyword in the same clause,
after a linking word ("use the calculator **for 17 * 23**", "search the docs **for
Last-Event-ID**"); numbers are the numbers in those words. A forced call the question does not
name (as `with_structured_output` makes) is filled like structured output: strings are the
sentences of the text answer.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass
from itertools import cycle

from .model_replies import reply_text, sentences
from .schema_values import value_for

__all__ = ["ToolCall", "keywords_of", "choose_tool_calls", "json_pieces"]

_FILLER = {
    "get",
    "set",
    "run",
    "do",
    "the",
    "a",
    "an",
    "to",
    "of",
    "for",
    "and",
    "tool",
    "fn",
    "func",
    "function",
    "call",
}
_STEM = 5
_WORD = re.compile(r"[A-Za-z0-9]+")
_CLAUSES = re.compile(r"[,;:!?]|\.(?:\s|$)|\band\b|\bthen\b", re.I)
_LINKING = {"for", "of", "in", "about", "on", "to", "with", "at", "from", "named", "called"}


@dataclass(frozen=True)
class ToolCall:
    id: str
    name: str
    arguments: str  # JSON text, as the API sends it


def keywords_of(name: str) -> set[str]:
    words = re.sub(r"([a-z0-9])([A-Z])", r"\1 \2", name).replace("_", " ").replace("-", " ").lower().split()
    return {w[:_STEM] for w in words if w not in _FILLER and len(w) >= 3}


def _stems(text: str) -> list[str]:
    return [w.lower()[:_STEM] for w in _WORD.findall(text)]


def _first_mention(tool: dict, question: str) -> int | None:
    """The position of the first word of `question` that names `tool`, or None."""
    keys = keywords_of(tool["name"])
    return next((i for i, stem in enumerate(_stems(question)) if stem in keys), None)


def _phrase(tool: dict, question: str) -> str:
    """The words after the tool's keyword in its clause, after a linking word: what the call is about."""
    keys = keywords_of(tool["name"])
    for clause in _CLAUSES.split(question):
        words = clause.split()
        hits = [i for i, w in enumerate(words) if _stems(w) and _stems(w)[0] in keys]
        if hits:
            rest = words[hits[-1] + 1 :]
            while rest and rest[0].lower() in _LINKING:
                rest = rest[1:]
            return " ".join(rest).strip(" .\"'")
    return ""


def _arguments(tool: dict, question: str, named: bool) -> str:
    schema = tool.get("parameters") or {"type": "object", "properties": {}}
    if named:
        phrase = _phrase(tool, question) or question
        value = value_for(schema, cycle([phrase]), phrase)
    else:
        value = value_for(schema, cycle(sentences(reply_text(question)) or [question]), question)
    return json.dumps(value, ensure_ascii=False)


def _call_id(question: str, name: str, step: int, index: int) -> str:
    """Stable ids (same conversation, same ids), shaped like the real API's `call_...`."""
    digest = hashlib.sha256(f"{question}|{name}|{step}|{index}".encode()).hexdigest()
    return "call_" + digest[:24]


def choose_tool_calls(
    tools: list[dict], tool_choice, question: str, done: set[str], *, parallel: bool = True, step: int = 0
) -> list[ToolCall]:
    """The calls for this reply (empty: answer in text). `tools` are the `function` objects."""
    if not tools or tool_choice == "none":
        return []
    by_name = {tool["name"]: tool for tool in tools}
    if isinstance(tool_choice, dict):
        name = tool_choice["function"]["name"]
        chosen = [by_name[name]]
    else:
        mentioned = sorted(
            (pos, i, tool)
            for i, tool in enumerate(tools)
            if (pos := _first_mention(tool, question)) is not None
        )
        named = [tool for _, _, tool in mentioned]
        chosen = [tool for tool in named if tool["name"] not in done]
        if not chosen and tool_choice == "required":
            chosen = (named or tools)[:1]
    if not parallel:
        chosen = chosen[:1]
    return [
        ToolCall(
            _call_id(question, tool["name"], step, index),
            tool["name"],
            _arguments(tool, question, _first_mention(tool, question) is not None),
        )
        for index, tool in enumerate(chosen)
    ]


_JSON_PIECE = re.compile(r"\s*\w+|\s*[^\w\s]+|\s+")


def json_pieces(text: str) -> list[str]:
    """JSON text in model-sized pieces: words and runs of punctuation, like '{"', 'city', '":"'."""
    return _JSON_PIECE.findall(text)
