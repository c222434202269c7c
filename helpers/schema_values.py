"""A deterministic value that satisfies a JSON Schema: how the embedded model fills structured output.

The real model writes JSON that follows a schema because it was trained and constrained to. The
embedded model needs the same guarantee without a model, so it walks the schema:

    object     every property, in the schema's order (strict mode requires them all)
    string     the next text from `texts` (the caller decides what: sentences of the answer,
               or the words a tool call is about); `format` date, date-time, time, email, uri
               and uuid get a fixed example; `minLength`/`maxLength` are honoured, `pattern` is not
    integer    the next number found in the question, clamped to `minimum`/`maximum`
    number     (or just inside the exclusive bounds); with no number left, the lower bound, or 1
    boolean    true
    array      `minItems` items, at least 2, at most `maxItems`
    null       null
    enum       the value the question names first, else the first value; `const` as given
    anyOf, oneOf, type lists: the first branch that is not null; allOf: the parts merged;
    `$ref` to `#/$defs/...` and `#/definitions/...` is followed.

Same schema and same inputs, same value: outputs stay stable across runs.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

__all__ = ["value_for", "numbers_in"]

_FORMATS = {
    "date-time": "2025-01-01T12:00:00Z",
    "date": "2025-01-01",
    "time": "12:00:00",
    "email": "learner@example.com",
    "uri": "https://example.com/",
    "uuid": "00000000-0000-4000-8000-000000000000",
}
_NUMBER = re.compile(r"-?\d+(?:\.\d+)?")


def numbers_in(text: str) -> list[float]:
    return [float(n) for n in _NUMBER.findall(text)]


class _Filler:
    def __init__(self, root: dict, texts: Iterator[str], question: str) -> None:
        self.root = root
        self.texts = texts
        self.question = question.lower()
        self.numbers = iter(numbers_in(question))

    def resolve(self, schema: dict) -> dict:
        seen = 0
        while "$ref" in schema and seen < 32:  # a bounded walk: a cyclic $ref cannot hang the model
            path = schema["$ref"].removeprefix("#/").split("/")
            target = self.root
            for part in path:
                target = target[part]
            schema = {**target, **{k: v for k, v in schema.items() if k != "$ref"}}
            seen += 1
        return schema

    def value(self, schema, depth: int = 0):
        if not isinstance(schema, dict) or depth > 12:
            return None
        schema = self.resolve(schema)
        if "const" in schema:
            return schema["const"]
        if "enum" in schema:
            named = [
                (self.question.find(v.lower()), v)
                for v in schema["enum"]
                if isinstance(v, str) and v.lower() in self.question
            ]
            return min(named)[1] if named else schema["enum"][0]
        for key in ("anyOf", "oneOf"):
            if key in schema:
                branches = [self.resolve(b) for b in schema[key]]
                chosen = next((b for b in branches if b.get("type") != "null"), branches[0])
                return self.value(chosen, depth + 1)
        if "allOf" in schema:
            merged: dict = {}
            for part in schema["allOf"]:
                merged.update(self.resolve(part))
            return self.value(merged, depth + 1)
        kind = schema.get("type")
        if isinstance(kind, list):
            kind = next((k for k in kind if k != "null"), "null")
        if kind is None:
            kind = "object" if "properties" in schema else "array" if "items" in schema else "string"
        return getattr(self, f"_{kind}", self._string)(schema, depth)

    def _object(self, schema: dict, depth: int):
        return {name: self.value(sub, depth + 1) for name, sub in (schema.get("properties") or {}).items()}

    def _array(self, schema: dict, depth: int):
        count = max(2, schema.get("minItems", 0))
        if "maxItems" in schema:
            count = min(count, schema["maxItems"])
        items = schema.get("items") or {}
        return [self.value(items, depth + 1) for _ in range(count)]

    def _string(self, schema: dict, depth: int):
        if schema.get("format") in _FORMATS:
            return _FORMATS[schema["format"]]
        text = next(self.texts, "") or "text"
        low, high = schema.get("minLength", 0), schema.get("maxLength")
        while len(text) < low:
            text += " " + text
        return text[:high] if high is not None else text

    def _integer(self, schema: dict, depth: int):
        return int(self._number(schema, depth))

    def _number(self, schema: dict, depth: int):
        low, high = (
            _bound(schema, "minimum", "exclusiveMinimum", +1),
            _bound(schema, "maximum", "exclusiveMaximum", -1),
        )
        value = next(self.numbers, None)
        if value is None:
            value = low if low is not None else 1
        if low is not None:
            value = max(value, low)
        if high is not None:
            value = min(value, high)
        return int(value) if float(value).is_integer() else value

    def _boolean(self, schema: dict, depth: int):
        return True

    def _null(self, schema: dict, depth: int):
        return None


def _bound(schema: dict, inclusive: str, exclusive: str, step: int) -> float | None:
    """The closest allowed value at one end: `minimum`, or just inside `exclusiveMinimum` (likewise max)."""
    if isinstance(schema.get(inclusive), (int, float)):
        return schema[inclusive]
    if isinstance(schema.get(exclusive), (int, float)) and not isinstance(schema[exclusive], bool):
        return schema[exclusive] + step
    return None


def value_for(schema: dict, texts: Iterator[str], question: str = "") -> object:
    """A value that satisfies `schema`; strings come from `texts`, numbers from `question`."""
    return _Filler(schema, texts, question).value(schema)
