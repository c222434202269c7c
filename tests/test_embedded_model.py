import asyncio
import time

import httpx
import openai
import pytest

from helpers.embedded_model import reply_for, tokenize
from helpers.sse import parse


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
    body = {"model": "m", "messages": [{"role": "user", "content": "hi"}], "stream": True, "stream_options": {"include_usage": True}}
    raw = httpx.post(f"{model.base_url}/chat/completions", json=body).content
    events = parse(raw)
    assert events[-1].data == "[DONE]"
    import json

    chunks = [json.loads(e.data) for e in events[:-1]]
    assert chunks[0]["object"] == "chat.completion.chunk" and chunks[0]["choices"][0]["delta"]["role"] == "assistant"
    assert {"id", "created", "model"} <= chunks[1].keys()
    assert chunks[-2]["choices"][0]["finish_reason"] == "stop"
    assert chunks[-1]["choices"] == [] and chunks[-1]["usage"]["completion_tokens"] == len(reply_for("hi"))
    reply = httpx.post(f"{model.base_url}/chat/completions", json={**body, "stream": False}).json()
    assert reply["choices"][0]["message"]["role"] == "assistant"


def test_max_tokens_cuts_with_finish_reason_length(model):
    body = {"model": "m", "messages": [{"role": "user", "content": "hi"}], "max_tokens": 2}
    reply = httpx.post(f"{model.base_url}/chat/completions", json=body).json()
    assert reply["choices"][0]["finish_reason"] == "length"
    assert reply["choices"][0]["message"]["content"] == "".join(reply_for("hi")[:2])


def test_continue_returns_the_rest_of_the_same_answer(llm):
    full = "".join(reply_for("What is SSE?"))
    partial = full[:23]
    rest = llm.invoke([("human", "What is SSE?"), ("ai", partial), ("human", "Continue.")]).content
    assert partial + rest == full


@pytest.mark.parametrize("fault, error", [
    ("error_after", openai.APIError),
    ("drop_after", openai.APIConnectionError),
    ("rate_limit", openai.RateLimitError),
    ("server_error", openai.InternalServerError),
])
def test_faults_raise_the_real_client_exceptions(llm, model, fault, error, run):
    async def scenario():
        got = ""
        async for chunk in llm.astream("What is SSE?", extra_body={"lab": {"fault": fault, "fault_at": 2}}):
            got += chunk.content
        return got

    with pytest.raises(error):
        run(scenario())
    assert model.last.fault == fault


def test_rate_limit_carries_retry_after(llm):
    with pytest.raises(openai.RateLimitError) as caught:
        llm.invoke("x", extra_body={"lab": {"fault": "rate_limit", "retry_after": 7}})
    assert caught.value.response.headers["retry-after"] == "7"


def test_no_done_still_ends_the_stream(llm):
    assert llm.invoke("hi", extra_body={"lab": {"fault": "no_done"}}).content == "".join(reply_for("hi"))


def test_unknown_fault_is_a_400(model):
    body = {"messages": [{"role": "user", "content": "x"}], "lab": {"fault": "nope"}}
    assert httpx.post(f"{model.base_url}/chat/completions", json=body).status_code == 400
    assert httpx.post(f"{model.base_url}/chat/completions", json={"nope": 1}).status_code == 400


def test_a_cancelled_stream_stops_the_model_within_100_ms(llm, model, run):
    async def scenario():
        async def consume():
            async for _ in llm.astream("long", extra_body={"lab": {"tokens": 10_000}}):
                pass

        task = asyncio.create_task(consume())
        while model.last is None or model.last.prompt != "long" or model.last.tokens_sent < 5:
            await asyncio.sleep(0.005)
        record = model.last
        task.cancel()
        cancelled_at = time.monotonic()
        while record.status == "running" and time.monotonic() - cancelled_at < 2:
            await asyncio.sleep(0.002)
        return record, record.ended - cancelled_at

    record, delay = run(scenario())
    assert record.status == "cancelled"
    assert record.tokens_sent < 10_000
    assert delay < 0.1
