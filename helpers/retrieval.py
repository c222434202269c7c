"""A tiny keyword retriever: the 'R' of a RAG answer, so a stream can show its first step."""

from __future__ import annotations

import re
from dataclasses import dataclass

__all__ = ["Document", "DOCUMENTS", "retrieve"]


@dataclass(frozen=True)
class Document:
    id: str
    title: str
    text: str


DOCUMENTS = (
    Document(
        "sse-format",
        "The text/event-stream format",
        "An SSE stream is UTF-8 text. Each event is a group of field lines (data, event, id, retry) ended by a blank line.",
    ),
    Document(
        "eventsource",
        "The browser's EventSource",
        "EventSource opens a GET request, reconnects by itself after a network error and sends Last-Event-ID when it does.",
    ),
    Document(
        "websocket",
        "WebSocket",
        "WebSocket upgrades an HTTP connection to a two-way message protocol. Reconnection and resume are left to the application.",
    ),
    Document(
        "errors",
        "Errors in a stream",
        "After the first byte the status is 200 for good. Later errors travel as events, and the client keeps the partial text.",
    ),
    Document(
        "langchain",
        "LangChain streaming",
        "ChatOpenAI.astream yields message chunks as the model produces tokens; ainvoke waits for the whole reply.",
    ),
    Document(
        "buffering",
        "Buffering proxies",
        "Proxies and servers may buffer a response. Cache-Control: no-cache and X-Accel-Buffering: no ask them not to.",
    ),
)

_WORD = re.compile(r"[a-z0-9]+")


def retrieve(question: str, k: int = 2) -> list[Document]:
    """The `k` documents sharing the most words with the question (ties keep the list order)."""
    words = set(_WORD.findall(question.lower()))
    scored = [
        (len(words & set(_WORD.findall(f"{d.title} {d.text}".lower()))), -i, d)
        for i, d in enumerate(DOCUMENTS)
    ]
    scored.sort(reverse=True)
    return [d for score, _, d in scored[:k]]
