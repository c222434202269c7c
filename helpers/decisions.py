"""Small decision functions that the notebooks build from their measurements."""

from __future__ import annotations

__all__ = ["choose_transport"]


def choose_transport(
    *, client_talks_during_stream: bool, binary: bool = False, anything_to_stream: bool = True
) -> tuple[str, str]:
    """SSE, WebSocket or plain HTTP for one feature, with the reason.

    `client_talks_during_stream`: the client sends messages *while* the server streams,
    often and with low latency (collaborative editing, games, voice), not just a new prompt or a stop.
    """
    if not anything_to_stream:
        return "plain HTTP", "nothing arrives over time: one request, one response (notebook 09)"
    if client_talks_during_stream:
        return "WebSocket", "both sides send at any time over one connection"
    if binary:
        return "WebSocket", "SSE carries UTF-8 text only; binary frames (audio) need WebSocket"
    return (
        "SSE",
        "server to client only: plain HTTP that reconnects and resumes by itself; rare client messages are ordinary requests",
    )
