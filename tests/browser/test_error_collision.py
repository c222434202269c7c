"""The source's client, as written, in Chromium: its `error` listener collides with the connection's
own error event on a drop, a crash and the 405, and not at a normal end or a graceful restart.

`helpers.error_collision` drives the five cases (notebook 06 prints the same run); the page runs the
source's script character for character (tests/test_source_material.py checks that).
"""

import asyncio

import pytest

from helpers.error_collision import CASES, FULL, run_cases

from ..support import watchable_model

RECONNECTING = "连接中断,正在重连..."  # the source's own message in its `onerror` handler
pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def cases():
    watchable_model()
    return {result.case: result for result in asyncio.run(run_cases(prefix="test-collision"))}


def test_every_case_ran(cases):
    assert tuple(cases) == CASES


def test_at_a_normal_end_the_client_closes_on_done_and_nothing_collides(cases):
    seen = cases["normal end"]
    assert not seen.collided and seen.connection_errors == 0 and seen.page_errors == []
    assert seen.text == FULL and seen.successes == ["生成完成"] and seen.errors == []
    # closed by the source's `done` listener
    assert seen.ready_state == "CLOSED" and seen.opens == 1 and seen.generations == 1


def test_a_network_drop_makes_the_client_parse_undefined_and_rerun_the_answer(cases):
    seen = cases["network drop"]
    assert seen.collided and seen.connection_errors == 1 and len(seen.page_errors) == 1
    assert seen.errors == [RECONNECTING]  # `hasError` was never set, so the source's `onerror` ran too
    # EventSource reconnected by itself; the source's server has no ids, so it started the answer again
    assert (
        seen.opens == 2 and seen.generations == 2 and seen.shown == "the start twice, then the whole answer"
    )


def test_a_graceful_restart_cuts_the_answer_and_then_reports_success_or_collides(cases):
    """uvicorn cancels the stream; the `yield` in the source's `finally` sends `done` if it is written before
    the server's loop closes (success over a cut answer), else the connection closes (the collision)."""
    seen = cases["graceful restart"]
    assert seen.shown == "the answer cut short" and seen.opens == 1 and seen.generations == 1
    if seen.successes:
        assert seen.successes == ["生成完成"] and not seen.collided and seen.connection_errors == 0
        assert seen.ready_state == "CLOSED"
    else:
        assert seen.collided and seen.connection_errors >= 1 and RECONNECTING in seen.errors


def test_a_crash_makes_the_client_parse_undefined_at_every_refused_reconnect(cases):
    seen = cases["crash"]
    assert seen.collided and len(seen.page_errors) == seen.connection_errors >= 2
    assert all("JSON" in e for e in seen.page_errors) and RECONNECTING in seen.errors
    assert seen.opens == 2 and seen.shown == "the start twice, then the whole answer"


def test_the_405_of_the_post_route_collides_once_and_is_never_retried(cases):
    seen = cases["405"]
    assert seen.collided and seen.connection_errors == 1 and seen.opens == 0
    assert seen.ready_state == "CLOSED" and seen.generations == 0  # the handler never ran
    assert seen.errors == [RECONNECTING]  # the source's message promises a reconnect that never comes
