"""The usage chunk: what notebook 04 teaches about usage while streaming, on the wire, in the SDK and in LangChain.

With `stream_options={"include_usage": True}` the stream's last chunk before `[DONE]` has empty
`choices` and the usage of the whole request; every earlier chunk has `"usage": null`. Without it,
no chunk carries usage. LangChain reports it as `usage_metadata` on one chunk with empty content,
after the last text. Against the embedded model always; against the real API when a key is set.
"""

import asyncio
import json

import httpx
import openai
import pytest

from helpers.embedded_model import MODEL_NAME, OFFLINE_API_KEY, chat_model, reply_for

from .support import REAL_API_KEY

MESSAGES = [{"role": "user", "content": "What is SSE?"}]


def raw_chunks(base_url: str, key: str, model: str, **extra) -> list[dict]:
    body = {"model": model, "stream": True, "messages": MESSAGES, **extra}
    lines = [
        line
        for line in httpx.post(
            f"{base_url}/chat/completions", json=body, headers={"Authorization": f"Bearer {key}"}, timeout=60
        ).text.splitlines()
        if line
    ]
    assert lines[-1] == "data: [DONE]"
    return [json.loads(line.removeprefix("data: ")) for line in lines[:-1]]


def check_usage_chunk(chunks: list[dict]) -> dict:
    """The shape the API reference promises; returns the usage."""
    *body, last = chunks
    assert (
        last["choices"] == []
        and last["usage"]["total_tokens"]
        == last["usage"]["prompt_tokens"] + last["usage"]["completion_tokens"]
    )
    assert all(chunk["usage"] is None and chunk["choices"] for chunk in body)
    assert body[-1]["choices"][0]["finish_reason"] == "stop"  # the finish comes before the usage
    return last["usage"]


def text_chunks(chunks: list[dict]) -> list[str]:
    return [
        choice["delta"]["content"]
        for chunk in chunks
        for choice in chunk["choices"]
        if choice["delta"].get("content")
    ]


def test_the_usage_chunk_on_the_wire(model):
    chunks = raw_chunks(model.base_url, OFFLINE_API_KEY, MODEL_NAME, stream_options={"include_usage": True})
    usage = check_usage_chunk(chunks)
    texts = text_chunks(chunks)
    assert "".join(texts) == "".join(reply_for("What is SSE?"))
    # the embedded model: one token per chunk, by construction
    assert usage["completion_tokens"] == len(texts)
    unasked = raw_chunks(model.base_url, OFFLINE_API_KEY, MODEL_NAME)
    # no usage chunk without the option
    assert all(chunk.get("usage") is None and chunk["choices"] for chunk in unasked)


def test_the_usage_chunk_in_the_official_sdk(model):
    with openai.OpenAI(base_url=model.base_url, api_key=OFFLINE_API_KEY, max_retries=0) as sdk:
        chunks = list(
            sdk.chat.completions.create(
                model=MODEL_NAME, messages=MESSAGES, stream=True, stream_options={"include_usage": True}
            )
        )
    assert chunks[-1].choices == [] and chunks[-1].usage.completion_tokens == sum(
        bool(c.choices and c.choices[0].delta.content) for c in chunks
    )
    assert all(chunk.usage is None for chunk in chunks[:-1])


def test_the_usage_chunk_in_langchain_is_usage_metadata_after_the_last_text(model, run):
    llm = chat_model(quiet=True, max_retries=0)

    async def stream(**options):
        return [chunk async for chunk in llm.astream("What is SSE?", **options)]

    seen = run(stream())
    carrying = [i for i, chunk in enumerate(seen) if chunk.usage_metadata]
    assert len(carrying) == 1 and seen[carrying[0]].content == ""
    assert carrying[0] > max(i for i, chunk in enumerate(seen) if chunk.content)
    merged = sum(seen[1:], seen[0])
    raw = check_usage_chunk(
        raw_chunks(model.base_url, OFFLINE_API_KEY, MODEL_NAME, stream_options={"include_usage": True})
    )
    assert (merged.usage_metadata["input_tokens"], merged.usage_metadata["output_tokens"]) == (
        raw["prompt_tokens"],
        raw["completion_tokens"],
    )
    assert not any(chunk.usage_metadata for chunk in run(stream(stream_usage=False)))


@pytest.mark.skipif(not REAL_API_KEY, reason="OPENAI_API_KEY is not set: the real API is not called")
def test_the_usage_chunk_of_the_real_api(monkeypatch):
    import os

    model = os.environ.get("OPENAI_MODEL", "gpt-4o-mini")
    chunks = raw_chunks(
        "https://api.openai.com/v1",
        REAL_API_KEY,
        model,
        stream_options={"include_usage": True},
        max_tokens=40,
    )
    *body, last = chunks
    assert last["choices"] == [] and last["usage"]["completion_tokens"] > 0
    assert all(chunk.get("usage") is None for chunk in body)
    assert len(text_chunks(chunks)) > 1

    monkeypatch.setenv("OPENAI_API_KEY", REAL_API_KEY)
    llm = chat_model(quiet=True, max_tokens=40)

    async def stream():
        return [chunk async for chunk in llm.astream("What is SSE?")]

    seen = asyncio.run(stream())
    assert sum(bool(chunk.usage_metadata) for chunk in seen) == 1
