"""The embedded model's documented rules: JSON that satisfies a schema (checked by `jsonschema`),
which tool a question calls and with what arguments, and how history shapes the reply."""

import json
from itertools import cycle
from typing import Literal

import jsonschema
import pytest
from pydantic import BaseModel, Field

from helpers.model_replies import reply_for, reply_text
from helpers.model_tools import choose_tool_calls, json_pieces, keywords_of
from helpers.schema_values import value_for


class Address(BaseModel):
    city: str
    postcode: str = Field(min_length=5, max_length=5)


class Person(BaseModel):
    name: str
    age: int = Field(gt=0, lt=130)
    score: float = Field(ge=0, le=1)
    role: Literal["admin", "learner"]
    email: str = Field(json_schema_extra={"format": "email"})
    home: Address
    previous: list[Address] = Field(min_length=1, max_length=1)
    nickname: str | None
    tags: list[str] = Field(default_factory=list)


SCHEMAS = [
    Person.model_json_schema(),
    {
        "type": "object",
        "properties": {
            "when": {"type": "string", "format": "date-time"},
            "n": {"type": "integer", "exclusiveMinimum": 10},
        },
        "required": ["when", "n"],
        "additionalProperties": False,
    },
    {
        "type": "array",
        "items": {"anyOf": [{"type": "null"}, {"type": "number", "maximum": -5}]},
        "minItems": 4,
    },
    {"type": ["null", "boolean"]},
    {"const": "fixed"},
    {"allOf": [{"type": "object", "properties": {"a": {"type": "string"}}}]},
]


@pytest.mark.parametrize("schema", SCHEMAS, ids=lambda s: s.get("title") or str(s)[:40])
def test_generated_values_satisfy_their_schema(schema):
    value = value_for(schema, cycle(["some text", "more text"]), "I am 42, a learner")
    jsonschema.validate(value, schema)


def test_the_question_supplies_enum_values_and_numbers():
    value = value_for(Person.model_json_schema(), cycle(["x"]), "a learner aged 42")
    person = Person.model_validate(value)
    assert person.role == "learner" and person.age == 42 and person.score == 0  # no number left: the minimum


def test_the_same_inputs_give_the_same_value():
    schema = Person.model_json_schema()
    assert value_for(schema, cycle(["a", "b"]), "q") == value_for(schema, cycle(["a", "b"]), "q")


CALC = {
    "name": "calculator",
    "parameters": {
        "type": "object",
        "properties": {"expression": {"type": "string"}},
        "required": ["expression"],
    },
}
DOCS = {
    "name": "search_docs",
    "parameters": {"type": "object", "properties": {"query": {"type": "string"}}, "required": ["query"]},
}
WEATHER = {
    "name": "getWeather",
    "parameters": {
        "type": "object",
        "properties": {"city": {"type": "string"}, "days": {"type": "integer", "minimum": 1}},
    },
}


def test_a_tools_keywords_are_the_words_of_its_name():
    assert keywords_of("search_docs") == {"searc", "docs"}
    assert keywords_of("getWeather") == {"weath"}
    assert keywords_of("get_current-time") == {"curre", "time"}


@pytest.mark.parametrize(
    "question, expected",
    [
        ("Calculate 6 * 7", [("calculator", {"expression": "6 * 7"})]),
        (
            "What is the weather in Paris for 3 days?",
            [("getWeather", {"city": "Paris for 3 days", "days": 3})],
        ),
        (
            "Search the docs about retry, then use the calculator for 2 + 2",
            [("search_docs", {"query": "retry"}), ("calculator", {"expression": "2 + 2"})],
        ),
        ("Tell me a story", []),
    ],
)
def test_auto_calls_the_tools_a_question_names_in_the_order_it_names_them(question, expected):
    calls = choose_tool_calls([CALC, DOCS, WEATHER], "auto", question, set())
    assert [(c.name, json.loads(c.arguments)) for c in calls] == expected
    assert len({c.id for c in calls}) == len(calls) and all(c.id.startswith("call_") for c in calls)


def test_tools_with_results_are_not_called_again_and_required_always_calls():
    question = "Use the calculator for 1 + 1 and search the docs for SSE"
    assert [c.name for c in choose_tool_calls([CALC, DOCS], "auto", question, {"calculator"})] == [
        "search_docs"
    ]
    assert choose_tool_calls([CALC, DOCS], "auto", question, {"calculator", "search_docs"}) == []
    assert [
        c.name for c in choose_tool_calls([CALC, DOCS], "required", question, {"calculator", "search_docs"})
    ] == ["calculator"]
    assert [c.name for c in choose_tool_calls([CALC, DOCS], "required", "hello", set())] == ["calculator"]
    assert [c.name for c in choose_tool_calls([CALC, DOCS], "auto", question, set(), parallel=False)] == [
        "calculator"
    ]


def test_argument_pieces_rebuild_the_json():
    text = json.dumps({"city": "Zürich", "n": [1, 2.5]}, ensure_ascii=False)
    pieces = json_pieces(text)
    assert "".join(pieces) == text and len(pieces) > 5


def test_history_names_the_previous_question_and_keeps_the_topic():
    first = reply_text("How does WebSocket work?")
    follow_up = reply_text("Why?", ["How does WebSocket work?"])
    assert follow_up.startswith("You asked before: “How does WebSocket work?”.")
    assert "WebSocket" in follow_up.split("”.", 1)[1] and follow_up.split("”. ", 1)[1] != first
    assert reply_text("什么时候用？", ["什么是流式输出？"]).startswith("你之前问过：“什么是流式输出？”。")
    assert reply_for("What is SSE?", history=()) == reply_for("What is SSE?")
