"""What the embedded model says: deterministic text rules, so lessons can know the answer in advance.

    question      the reply answers the *last* user message
    topic         the first topic word in the question ("websocket", "error"); a question
                  without one keeps the topic of the latest earlier question that had one
                  (a follow-up such as "Why?" stays on its subject); else streaming in general
    language      a question with Chinese characters gets the Chinese answer
    history       with earlier user turns, the reply first names the previous question
                  ("You asked before: ..."), and a topic already answered gets its second
                  paragraph instead of the same text again
    tool results  after `role: "tool"` messages the reply quotes each result, in order:
                  'Here is what the tools found: calculator returned “391”; ...'

`reply_for(prompt)` is the single-turn reply other notebooks compare against; it is unchanged
by the history rules (no history, no prefix).
"""

from __future__ import annotations

import re
from collections.abc import Sequence

__all__ = ["tokenize", "reply_for", "reply_text", "answer_from_tool_results", "sentences", "has_cjk"]

_GENERAL = (
    "Streaming sends the answer while it is being written. The server keeps one HTTP response open "
    "and writes each token as a small Server-Sent Event, so the first words arrive long before the "
    "last ones are generated. The total time stays about the same; the wait before something "
    "useful appears gets much shorter.",
    "A token is a small piece of text, often a word. The relay forwards each one as soon as it "
    "arrives and the page appends it, so the reader starts reading while the model is still "
    "writing. Streaming pays off when the answer is long and a person is waiting for it.",
)
_TOPICS = {
    "websocket": (
        "WebSocket is a separate protocol reached through an HTTP upgrade. It carries messages both "
        "ways, which a chat answer does not need. Server-Sent Events stay plain HTTP, reconnect by "
        "themselves and resume with Last-Event-ID.",
        "Choose WebSocket when the client must talk back during the answer, for example to send "
        "audio or edits. For a one-way answer SSE is simpler: EventSource reconnects on its own, "
        "and proxies treat the stream as ordinary HTTP.",
    ),
    "error": (
        "Once the first byte is sent the status code is fixed at 200. An error that happens later "
        "must travel inside the stream as an event, and the client keeps the text it already has.",
        "A good stream ends with a final event that says whether the answer is complete. The client "
        "shows the error next to the partial text and can continue from where it stopped instead "
        "of starting again.",
    ),
}
_CHINESE = (
    "流式输出是在生成答案的同时把它发送出去。服务器保持一个 HTTP 响应不关闭，"
    "每生成一个词就写出一个 SSE 事件，所以用户很快就能看到第一句话。",
    "每个 token 一生成就被转发到页面上，用户可以边读边等。回答越长、用户越在等待，流式输出的好处就越明显。",
)

_CJK = re.compile(r"[\u3000-\u9fff\uff00-\uffef]")
_SENTENCE_END = re.compile(r"(?<=[.!?。！？])\s*")


def has_cjk(text: str) -> bool:
    return bool(_CJK.search(text))


def tokenize(text: str) -> list[str]:
    """Split like a model would emit: words with their leading space, CJK two characters at a time."""
    tokens: list[str] = []
    for piece in re.findall(r"\s*\S+", text):
        if _CJK.search(piece):
            word = piece.lstrip()
            pairs = [word[i : i + 2] for i in range(0, len(word), 2)]
            tokens.extend([piece[: len(piece) - len(word)] + pairs[0], *pairs[1:]])
        else:
            tokens.append(piece)
    return tokens


def sentences(text: str) -> list[str]:
    return [s for s in _SENTENCE_END.split(text) if s]


def _topic(text: str) -> str | None:
    lowered = text.lower()
    return next((key for key in _TOPICS if key in lowered), None)


def reply_text(question: str, history: Sequence[str] = ()) -> str:
    """The reply to `question` after the earlier user messages `history` (oldest first)."""
    if has_cjk(question):
        earlier = [q for q in history if has_cjk(q)]
        body = _CHINESE[1] if earlier else _CHINESE[0]
        return f"你之前问过：“{_short(history[-1])}”。{body}" if history else body
    topic = _topic(question)
    if topic is None:
        topic = next((t for t in map(_topic, reversed(history)) if t is not None), None)
    paragraphs = _TOPICS.get(topic, _GENERAL)
    answered_before = any(_topic(q) == topic for q in history) if topic else bool(history)
    body = paragraphs[1] if answered_before else paragraphs[0]
    return f"You asked before: “{_short(history[-1])}”. {body}" if history else body


def _short(text: str, limit: int = 60) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def reply_for(prompt: str, tokens: int | None = None, *, history: Sequence[str] = ()) -> list[str]:
    """The deterministic reply to `prompt`, as tokens; `tokens` sets its length (the text repeats)."""
    base = tokenize(reply_text(prompt, history))
    if tokens is None:
        return base
    return [base[i % len(base)] for i in range(max(0, tokens))]


def answer_from_tool_results(question: str, results: Sequence[tuple[str, str]]) -> str:
    """The reply after tool calls: each tool's result, quoted in the order the results came."""
    parts = [f"{name} returned “{_short(content, 160)}”" for name, content in results]
    if has_cjk(question):
        return "根据工具的结果：" + "；".join(parts) + "。"
    return "Here is what the tools found: " + "; ".join(parts) + "."
