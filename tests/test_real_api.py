"""The same client code against the real OpenAI API: run only when OPENAI_API_KEY is set."""

import asyncio

import pytest

from .support import REAL_API_KEY

pytestmark = pytest.mark.skipif(
    not REAL_API_KEY, reason="OPENAI_API_KEY is not set: the real API is not called"
)


def test_chat_model_uses_the_real_api_and_streams(monkeypatch, capsys):
    from helpers.embedded_model import chat_model

    monkeypatch.setenv("OPENAI_API_KEY", REAL_API_KEY)
    llm = chat_model(max_tokens=20)
    assert "real OpenAI API" in capsys.readouterr().out
    assert REAL_API_KEY not in capsys.readouterr().out

    async def scenario():
        return [chunk.content async for chunk in llm.astream("Say hello in five words.")]

    chunks = asyncio.run(scenario())
    assert len([c for c in chunks if c]) > 1  # token by token, not one piece
    assert llm.invoke("Say OK.").content
