"""helpers.decisions: the transport a feature needs, and the reason given with it."""

import pytest

from helpers.decisions import choose_transport


def test_choose_transport():
    assert choose_transport(client_talks_during_stream=False)[0] == "SSE"
    assert choose_transport(client_talks_during_stream=True)[0] == "WebSocket"
    assert choose_transport(client_talks_during_stream=False, binary=True)[0] == "WebSocket"
    assert choose_transport(client_talks_during_stream=False, anything_to_stream=False)[0] == "plain HTTP"


@pytest.mark.parametrize(
    "features, reason",
    [
        ({"client_talks_during_stream": False, "anything_to_stream": False}, "one request, one response"),
        ({"client_talks_during_stream": True}, "both sides send at any time"),
        ({"client_talks_during_stream": False, "binary": True}, "UTF-8 text only"),
        ({"client_talks_during_stream": False}, "reconnects and resumes by itself"),
    ],
)
def test_each_choice_says_why(features, reason):
    assert reason in choose_transport(**features)[1]


def test_nothing_to_stream_wins_over_everything_else():
    assert choose_transport(client_talks_during_stream=True, binary=True, anything_to_stream=False)[0] == (
        "plain HTTP"
    )
