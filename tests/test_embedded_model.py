"""The embedded model against the official clients: the `openai` SDK and LangChain, as a learner uses them.

Each "done when" point of issue 15 is a test here that runs third-party code only; the raw
bytes are read with httpx where the wire format itself is the point.
"""

import json
import time

import httpx
import openai
import pytest
from langchain_core.messages import AIMessage, HumanMessage, ToolMessage
from langchain_core.output_parsers import JsonOutputParser, PydanticOutputParser
from langchain_core.tools import tool
from pydantic import BaseModel, Field

from helpers.embedded_model import (
    MODEL_NAME,
    OFFLINE_API_KEY,
    LazyModel,
    chat_model,
    is_embedded,
    reply_for,
    tokenize,
)
from helpers.sse import parse

AUTH = {"Authorization": f"Bearer {OFFLINE_API_KEY}"}
TOOLS_QUESTION = "Use the calculator for 17 * 23 and search the docs for Last-Event-ID."


@tool
def calculator(expression: str) -> str:
    """Evaluate an arithmetic expression such as 2 * (3 + 4)."""
    return "391" if expression == "17 * 23" else "?"


@tool
def search_docs(query: str) -> str:
    """Search the course's documents."""
    return f"EventSource sends {query} when it reconnects."


@pytest.fixture(scope="module")
def client(model):
    with openai.OpenAI(base_url=model.base_url, api_key=OFFLINE_API_KEY, max_retries=0) as sdk:
        yield sdk


def user(text):
    return [{"role": "user", "content": text}]


# --- text, pace and the wire ---------------------------------------------------------------


def test_replies_are_deterministic_and_bilingual():
    assert reply_for("What is SSE?") == reply_for("What is SSE?")
    assert reply_for("Tell me about WebSocket") != reply_for("What is SSE?")
    assert "流式" in "".join(reply_for("什么是流式输出？"))
    assert len(reply_for("x", tokens=500)) == 500
    assert tokenize("a bc 你好吗") == ["a", " bc", " 你好", "吗"]


def test_astream_yields_token_by_token_at_the_configured_pace(llm, model, run):
    async def scenario():
        arrivals, start = [], time.monotonic()
        async for chunk in llm.astream("What is SSE?"):
            if chunk.content:
                arrivals.append((time.monotonic() - start, chunk.content))
        return arrivals

    arrivals = run(scenario())
    expected = reply_for("What is SSE?")
    assert [text for _, text in arrivals] == expected
    # the schedule is a lower bound: tokens cannot come earlier than first delay + n * token delay
    assert arrivals[0][0] >= model.first_token_delay * 0.9
    assert arrivals[-1][0] >= model.first_token_delay + (len(expected) - 1) * model.token_delay * 0.9


def test_invoke_and_ainvoke_return_the_whole_reply(llm, run):
    expected = "".join(reply_for("hello"))
    assert llm.invoke("hello").content == expected
    assert run(llm.ainvoke("hello")).content == expected


def test_wire_format_is_openai_compatible(model):
    body = {
        "model": MODEL_NAME,
        "messages": user("hi"),
        "stream": True,
        "stream_options": {"include_usage": True},
    }
    raw = httpx.post(f"{model.base_url}/chat/completions", json=body, headers=AUTH).content
    events = parse(raw)
    assert events[-1].data == "[DONE]"
    chunks = [json.loads(e.data) for e in events[:-1]]
    assert (
        chunks[0]["object"] == "chat.completion.chunk"
        and chunks[0]["choices"][0]["delta"]["role"] == "assistant"
    )
    assert {"id", "created", "model"} <= chunks[1].keys()
    assert chunks[-2]["choices"][0]["finish_reason"] == "stop"
    assert all(chunk["usage"] is None for chunk in chunks[:-1])  # null on every chunk but the last
    assert chunks[-1]["choices"] == [] and chunks[-1]["usage"]["completion_tokens"] == len(reply_for("hi"))
    reply = httpx.post(
        f"{model.base_url}/chat/completions",
        json={**body, "stream": False, "stream_options": None},
        headers=AUTH,
    ).json()
    assert reply["choices"][0]["message"]["role"] == "assistant"


def test_max_tokens_cuts_with_finish_reason_length(client):
    reply = client.chat.completions.create(model=MODEL_NAME, messages=user("hi"), max_tokens=2)
    assert reply.choices[0].finish_reason == "length"
    assert reply.choices[0].message.content == "".join(reply_for("hi")[:2])


# --- history and "continue" ------------------------------------------------------------------


def test_a_two_turn_conversation_gets_a_real_second_answer(llm):
    first = llm.invoke("What is WebSocket?").content
    second = llm.invoke(
        [HumanMessage("What is WebSocket?"), AIMessage(first), HumanMessage("When should I choose it?")]
    )
    assert second.content and second.content != first
    assert "What is WebSocket?" in second.content  # it saw the earlier turn
    assert "WebSocket" in second.content.split("”", 1)[1]  # and kept its subject
    assert second.response_metadata["finish_reason"] == "stop"


def test_the_history_is_billed_in_prompt_tokens(llm):
    one = llm.invoke("What is SSE?").usage_metadata["input_tokens"]
    three = llm.invoke(
        [HumanMessage("What is SSE?"), AIMessage("".join(reply_for("What is SSE?"))), HumanMessage("Why?")]
    ).usage_metadata["input_tokens"]
    assert three > one + len(reply_for("What is SSE?"))


def test_an_assistant_message_is_history_unless_lab_continue_is_set(llm):
    full = "".join(reply_for("What is SSE?"))
    partial = full[:23]
    conversation = [HumanMessage("What is SSE?"), AIMessage(partial), HumanMessage("Continue.")]
    rest = llm.invoke(conversation, extra_body={"lab": {"continue": True}}).content
    assert partial + rest == full
    assert not (partial + llm.invoke(conversation).content).startswith(full)


# --- tools ------------------------------------------------------------------------------------


def test_bind_tools_astream_yields_tool_call_chunks_that_merge_into_valid_calls(llm, run):
    async def scenario():
        chunks = [chunk async for chunk in llm.bind_tools([calculator, search_docs]).astream(TOOLS_QUESTION)]
        merged = chunks[0]
        for chunk in chunks[1:]:
            merged += chunk
        return chunks, merged

    chunks, merged = run(scenario())
    pieces = [piece for chunk in chunks for piece in chunk.tool_call_chunks]
    assert len(pieces) > 6, "the arguments must arrive in pieces"
    assert [p["index"] for p in pieces if p["name"]] == [0, 1]  # parallel calls, by index
    assert all(p["id"] is None for p in pieces if not p["name"])  # id and name come once, first
    assert [(c["name"], c["args"]) for c in merged.tool_calls] == [
        ("calculator", {"expression": "17 * 23"}),
        ("search_docs", {"query": "Last-Event-ID"}),
    ]
    assert merged.response_metadata["finish_reason"] == "tool_calls"
    assert merged.usage_metadata["output_tokens"] == len(pieces)


def test_the_sdk_sees_the_real_apis_tool_call_deltas(client):
    tools = [
        {
            "type": "function",
            "function": {"name": "calculator", "parameters": calculator.args_schema.model_json_schema()},
        }
    ]
    stream = client.chat.completions.create(
        model=MODEL_NAME, messages=user("calculate 2 * 21"), tools=tools, stream=True
    )
    deltas = [call for chunk in stream for choice in chunk.choices for call in choice.delta.tool_calls or []]
    first, rest = deltas[0], deltas[1:]
    assert (first.index, first.type, first.function.name, first.function.arguments) == (
        0,
        "function",
        "calculator",
        "",
    )
    assert first.id.startswith("call_") and all(d.id is None and d.function.name is None for d in rest)
    assert json.loads("".join(d.function.arguments for d in rest)) == {"expression": "2 * 21"}


@pytest.mark.parametrize(
    "choice, expected",
    [
        ("none", []),
        ("auto", ["calculator"]),
        ("required", ["calculator"]),
        ({"type": "function", "function": {"name": "search_docs"}}, ["search_docs"]),
    ],
)
def test_tool_choice_decides_like_the_api(llm, choice, expected):
    message = llm.bind_tools([calculator, search_docs], tool_choice=choice).invoke("calculate 6 * 7")
    assert [call["name"] for call in message.tool_calls] == expected
    assert bool(message.content) == (not expected)


def test_parallel_tool_calls_false_calls_one_tool_per_reply(llm):
    message = llm.bind_tools([calculator, search_docs], parallel_tool_calls=False).invoke(TOOLS_QUESTION)
    assert [call["name"] for call in message.tool_calls] == ["calculator"]


def test_an_agent_loop_gets_an_answer_that_uses_the_tool_results(llm):
    bound = llm.bind_tools([calculator, search_docs])
    messages = [HumanMessage(TOOLS_QUESTION)]
    for _ in range(4):
        reply = bound.invoke(messages)
        messages.append(reply)
        if not reply.tool_calls:
            break
        for call in reply.tool_calls:
            messages.append({"calculator": calculator, "search_docs": search_docs}[call["name"]].invoke(call))
    assert isinstance(messages[2], ToolMessage) and len(messages) == 5  # question, calls, two results, answer
    assert "391" in reply.content and "Last-Event-ID" in reply.content


def test_a_tool_result_without_its_call_is_refused_like_the_api_does(llm):
    with pytest.raises(
        openai.BadRequestError, match="must be a response to a preceeding message with 'tool_calls'"
    ):
        llm.invoke([HumanMessage("hi"), ToolMessage("391", tool_call_id="call_x")])
    with pytest.raises(openai.BadRequestError, match="did not have response messages"):
        llm.invoke(
            [
                HumanMessage("hi"),
                AIMessage("", tool_calls=[{"name": "calculator", "args": {}, "id": "call_x"}]),
                HumanMessage("and?"),
            ]
        )


# --- structured output ------------------------------------------------------------------------


class Step(BaseModel):
    title: str
    minutes: int = Field(ge=1, le=30)


class Plan(BaseModel):
    """A study plan."""

    goal: str
    level: str = Field(json_schema_extra={"enum": ["beginner", "advanced"]})
    steps: list[Step] = Field(min_length=2, max_length=3)
    done: bool


@pytest.mark.parametrize("method", ["function_calling", "json_schema", "json_mode"])
def test_with_structured_output_returns_a_validated_object_for_every_method(llm, method):
    prompt = "Plan my advanced study of SSE in JSON."
    if method == "json_mode":  # JSON mode needs the schema in the prompt, with the real API too
        prompt += "\n" + PydanticOutputParser(pydantic_object=Plan).get_format_instructions()
    plan = llm.with_structured_output(Plan, method=method).invoke(prompt)
    assert isinstance(plan, Plan)
    assert plan.level == "advanced"  # the enum value the question names
    assert 2 <= len(plan.steps) <= 3 and all(1 <= step.minutes <= 30 for step in plan.steps)


def test_json_output_parser_streams_growing_partial_objects(llm, run):
    async def scenario():
        chain = llm.bind(response_format={"type": "json_object"}) | JsonOutputParser()
        return [part async for part in chain.astream("Answer in JSON: what is SSE?")]

    parts = run(scenario())
    texts = [part.get("answer", "") for part in parts]
    assert len(parts) > 10 and texts == sorted(texts, key=len)
    assert all(texts[-1].startswith(text) for text in texts)
    assert parts[-1] == {"answer": "".join(reply_for("Answer in JSON: what is SSE?"))}


def test_json_object_without_the_word_json_is_refused_like_the_api_does(llm):
    with pytest.raises(openai.BadRequestError, match="must contain the word 'json'"):
        llm.bind(response_format={"type": "json_object"}).invoke("What is SSE?")


# --- refusals, n, usage and headers -----------------------------------------------------------


def test_a_missing_or_wrong_key_is_a_401(model):
    with openai.OpenAI(base_url=model.base_url, api_key="sk-not-the-offline-key", max_retries=0) as wrong:
        with pytest.raises(openai.AuthenticationError) as caught:
            wrong.chat.completions.create(model=MODEL_NAME, messages=user("hi"))
        assert caught.value.code == "invalid_api_key"
        with pytest.raises(openai.AuthenticationError, match="didn't provide an API key"):
            wrong.chat.completions.create(
                model=MODEL_NAME, messages=user("hi"), extra_headers={"Authorization": openai.omit}
            )
        with pytest.raises(openai.AuthenticationError):
            wrong.models.list()


def test_an_unknown_model_is_a_404(client):
    with pytest.raises(openai.NotFoundError) as caught:
        client.chat.completions.create(model="gpt-nonexistent", messages=user("hi"))
    assert caught.value.code == "model_not_found"
    assert [m.id for m in client.models.list()] == [MODEL_NAME]


@pytest.mark.parametrize(
    "arguments, param",
    [
        ({"messages": []}, "messages"),
        ({"stream_options": {"include_usage": True}}, "stream_options"),
        ({"n": 0}, "n"),
        ({"temperature": 3}, "temperature"),
        ({"messages": [{"role": "robot", "content": "hi"}]}, "messages[0].role"),
        ({"tool_choice": "auto"}, "tool_choice"),
        ({"extra_body": {"surprise": 1}}, None),
        ({"extra_body": {"lab": {"fault": "nope"}}}, "lab.fault"),
    ],
)
def test_bad_parameters_are_a_400_with_the_apis_error_body(client, arguments, param):
    request = {"model": MODEL_NAME, "messages": user("hi"), **arguments}
    with pytest.raises(openai.BadRequestError) as caught:
        client.chat.completions.create(**request)
    assert caught.value.param == param
    assert (
        set(caught.value.body) == {"message", "type", "param", "code"}
        and caught.value.type == "invalid_request_error"
    )


def test_n_2_returns_two_choices_streamed_with_index_0_and_1(client, llm):
    whole = client.chat.completions.create(model=MODEL_NAME, messages=user("hi"), n=2)
    assert [c.index for c in whole.choices] == [0, 1] and whole.choices[0].message.content == "".join(
        reply_for("hi")
    )
    texts = {0: "", 1: ""}
    for chunk in client.chat.completions.create(model=MODEL_NAME, messages=user("hi"), n=2, stream=True):
        for choice in chunk.choices:
            texts[choice.index] += choice.delta.content or ""
    assert texts[0] == texts[1] == "".join(reply_for("hi"))
    assert len(chat_model(quiet=True, n=2).generate([[HumanMessage("hi")]]).generations[0]) == 2


def test_chat_model_streams_usage_by_default(llm, run):
    async def scenario():
        chunks = [chunk async for chunk in llm.astream("What is SSE?")]
        return chunks, [c.usage_metadata for c in chunks if c.usage_metadata]

    chunks, usage = run(scenario())
    assert len(usage) == 1 and usage[0]["output_tokens"] == sum(1 for c in chunks if c.content)
    assert usage[0]["input_tokens"] == 3 + 3 + len(tokenize("What is SSE?"))


def test_responses_carry_a_request_id_and_rate_limit_headers(client):
    raw = client.chat.completions.with_raw_response.create(model=MODEL_NAME, messages=user("hi"))
    assert raw.request_id.startswith("req_") and raw.parse()._request_id == raw.request_id
    assert int(raw.headers["x-ratelimit-remaining-requests"]) < int(raw.headers["x-ratelimit-limit-requests"])
    assert int(raw.headers["x-ratelimit-remaining-tokens"]) < int(raw.headers["x-ratelimit-limit-tokens"])
    assert raw.headers["x-ratelimit-reset-requests"].endswith("s")


# --- faults -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "fault, error",
    [
        ("error_after", openai.APIError),
        ("drop_after", openai.APIConnectionError),
        ("rate_limit", openai.RateLimitError),
        ("server_error", openai.InternalServerError),
    ],
)
def test_faults_raise_the_real_client_exceptions(llm, model, fault, error, run):
    async def scenario():
        got = ""
        async for chunk in llm.astream("What is SSE?", extra_body={"lab": {"fault": fault, "fault_at": 2}}):
            got += chunk.content
        return got

    with pytest.raises(error):
        run(scenario())
    assert model.last.fault == fault


def test_rate_limit_carries_retry_after_and_the_rate_limit_headers(llm):
    with pytest.raises(openai.RateLimitError) as caught:
        llm.invoke("x", extra_body={"lab": {"fault": "rate_limit", "retry_after": 7}})
    headers = caught.value.response.headers
    assert headers["retry-after"] == "7" and headers["x-ratelimit-remaining-requests"] == "0"
    assert caught.value.code == "rate_limit_exceeded" and headers["x-request-id"].startswith("req_")


def test_no_done_still_ends_the_stream(llm):
    assert llm.invoke("hi", extra_body={"lab": {"fault": "no_done"}}).content == "".join(reply_for("hi"))


# --- the lazy factory -------------------------------------------------------------------------


def test_lazy_model_makes_its_model_on_first_use_only(model):
    made = []

    def factory():
        made.append(chat_model(quiet=True))
        return made[-1]

    lazy = LazyModel(factory)
    assert made == [] and "not made yet" in repr(lazy)
    assert is_embedded(lazy) and len(made) == 1
    assert lazy.invoke("hi").content == "".join(reply_for("hi")) and len(made) == 1


def test_a_cancelled_sdk_stream_marks_the_record_cancelled(client, model):
    stream = client.chat.completions.create(
        model=MODEL_NAME, messages=user("long"), stream=True, extra_body={"lab": {"tokens": 10_000}}
    )
    for i, _ in enumerate(stream):
        if i == 5:
            break
    record = model.last
    stream.close()
    deadline = time.monotonic() + 10
    while record.status == "running" and time.monotonic() < deadline:
        time.sleep(0.01)
    assert record.status == "cancelled", (
        f"still {record.status} 10 s after the client closed ({record.tokens_sent} tokens sent)"
    )
    assert record.tokens_sent < 10_000


def test_settled_waits_for_the_last_request_to_end_and_no_longer_than_its_timeout(client, model, run):
    stream = client.chat.completions.create(
        model=MODEL_NAME, messages=user("long"), stream=True, extra_body={"lab": {"tokens": 10_000}}
    )
    next(iter(stream))
    waiting = time.monotonic()
    record = run(model.settled(timeout=0.3))
    assert record.status == "running", "the stream is still open: settled() must not report it ended"
    assert time.monotonic() - waiting < 10, "settled() waited far longer than its timeout"
    stream.close()
    record = run(model.settled())
    assert record.status == "cancelled", f"still {record.status} 10 s after the client closed"
