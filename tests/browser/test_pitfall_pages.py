"""The source material's client and handler, as written, in Chromium: where the `error` name bites, and where not.

The page `error-collision.html` runs the source's script character for character
(tests/test_source_material.py checks that); its server runs the source's generator.
"""

import httpx
import pytest

from helpers.embedded_model import embedded_model, reply_for, server_chat_model
from helpers.kernel_server import serve
from helpers.pitfalls import DEFAULT_MESSAGE, create_pitfall_app

from .conftest import sample

FULL = "".join(reply_for(DEFAULT_MESSAGE))
RECONNECTING = "连接中断,正在重连..."  # the source's own message in its `onerror` handler
pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def model():
    return embedded_model(first_token_delay=0.2, token_delay=0.03)


@pytest.fixture(scope="module")
def pitfalls(model):
    app = create_pitfall_app()
    with serve(app, name="browser-pitfalls") as handle:
        yield app, handle


def record(page) -> dict:
    return page.evaluate("({text: lab.text, errors: lab.errors, successes: lab.successes, pageErrors: lab.pageErrors,"
                         " opens: lab.opens, connectionErrors: lab.connectionErrors, serverErrors: lab.serverErrors,"
                         " readyState: lab.source && lab.source.readyState})")


def test_at_a_normal_end_the_source_client_closes_on_done_and_nothing_collides(page, pitfalls):
    app, server = pitfalls
    before = app.state.runs["seed"]
    page.goto(f"{server.url}/over-get/error-collision.html")
    sample(page, "lab.text.length", until="lab.successes.length > 0")
    page.wait_for_timeout(1500)  # longer than a reconnect would take, had the page not closed
    seen = record(page)
    assert seen["text"] == FULL
    assert seen["successes"] == ["生成完成"]
    assert seen["connectionErrors"] == 0 and seen["pageErrors"] == [] and seen["errors"] == []
    assert seen["readyState"] == 2 and seen["opens"] == 1  # closed by the source's `done` listener
    assert app.state.runs["seed"] - before == 1


def test_a_network_drop_makes_the_source_client_parse_undefined_and_rerun_the_answer(page, pitfalls):
    app, server = pitfalls
    before = app.state.runs["seed"]
    page.goto(f"{server.url}/over-get/error-collision.html")
    sample(page, "lab.text.length", until="lab.text.length > 20")
    assert httpx.post(f"{server.url}/drop").status_code == 202
    sample(page, "lab.pageErrors", until="lab.pageErrors.length > 0", timeout=10)
    seen = record(page)
    assert seen["connectionErrors"] == 1
    assert "JSON" in seen["pageErrors"][0]  # JSON.parse(undefined) threw in the source's `error` listener
    assert seen["errors"] == [RECONNECTING]  # `hasError` was never set, so `onerror` ran too
    # EventSource reconnects by itself; the source's server has no ids, so it starts the answer again
    sample(page, "[lab.opens, lab.text.length]", until="lab.successes.length > 0", timeout=20)
    seen = record(page)
    assert seen["opens"] == 2 and app.state.runs["seed"] - before == 2
    assert seen["text"].endswith(FULL) and len(seen["text"]) > len(FULL)  # the beginning appears twice


def test_a_graceful_server_restart_sends_done_so_the_source_client_reports_success_on_a_cut_answer(page, model):
    """No collision here, something worse: uvicorn cancels the stream, and the `yield` in the
    source's `finally` still sends `done`, so the client says 生成完成 over half an answer."""
    app = create_pitfall_app()
    server = serve(app, name="browser-pitfalls-restart")
    try:
        page.goto(f"{server.url}/over-get/error-collision.html")
        sample(page, "lab.text.length", until="lab.text.length > 20")
        server.stop()  # uvicorn's shutdown: open streams get a grace period, then are cancelled
        sample(page, "lab.text.length", until="lab.successes.length > 0", timeout=15)
        seen = record(page)
        assert seen["successes"] == ["生成完成"] and seen["readyState"] == 2
        assert 0 < len(seen["text"]) < len(FULL) and FULL.startswith(seen["text"])
        assert seen["connectionErrors"] == 0 and seen["pageErrors"] == []
    finally:
        server.stop()


def test_a_crashed_server_makes_the_source_client_parse_undefined_until_it_is_back(page, model):
    app = create_pitfall_app()
    server = serve(app, name="browser-pitfalls-crash")
    try:
        page.goto(f"{server.url}/over-get/error-collision.html")
        sample(page, "lab.text.length", until="lab.text.length > 20")
        app.state.drop()  # connections die with the process ...
        server.stop()
        sample(page, "lab.connectionErrors", until="lab.connectionErrors >= 2", timeout=20)  # ... and reconnects are refused
        server = serve(app, name="browser-pitfalls-crash", port=server.port)
        sample(page, "[lab.opens, lab.pageErrors.length]", until="lab.successes.length > 0", timeout=30)
        seen = record(page)
        assert len(seen["pageErrors"]) == seen["connectionErrors"] >= 2  # JSON.parse(undefined), every time
        assert all("JSON" in e for e in seen["pageErrors"]) and RECONNECTING in seen["errors"]
        assert seen["opens"] == 2 and seen["text"].endswith(FULL) and len(seen["text"]) > len(FULL)
    finally:
        server.stop()


def test_eventsource_on_the_source_post_route_gets_405_parses_undefined_and_never_retries(page, pitfalls):
    app, server = pitfalls
    before = app.state.runs["seed"]
    page.goto(f"{server.url}/as-written/error-collision.html")
    sample(page, "lab.pageErrors", until="lab.pageErrors.length > 0", timeout=10)
    page.wait_for_timeout(1500)
    seen = record(page)
    assert seen["readyState"] == 2 and seen["opens"] == 0  # CLOSED: a 405 is never retried
    assert seen["connectionErrors"] == 1 and "JSON" in seen["pageErrors"][0]
    assert seen["errors"] == [RECONNECTING]  # the source's message promises a reconnect that never comes
    assert app.state.runs["seed"] == before  # the handler never ran


def test_a_server_error_event_reaches_the_source_listener_with_its_data(page, model):
    """Where the source's design works: its own `event: error` carries data, and the partial text stays."""
    faulty = lambda: server_chat_model(offline=True, extra_body={"lab": {"fault": "error_after", "fault_at": 5}})  # noqa: E731
    with serve(create_pitfall_app(faulty), name="browser-pitfalls-fault") as server:
        page.goto(f"{server.url}/over-get/error-collision.html")
        sample(page, "lab.errors", until="lab.errors.length > 0")
        page.wait_for_timeout(1000)
        seen = record(page)
    assert seen["text"] == "".join(reply_for(DEFAULT_MESSAGE)[:5])  # kept, as the source intends
    assert seen["serverErrors"] == 1 and seen["connectionErrors"] == 0 and seen["pageErrors"] == []
    assert seen["errors"][0].startswith("生成失败: ") and seen["readyState"] == 2
    assert seen["errors"][0] == "生成失败: The model failed mid-answer (simulated)."  # str(e): upstream text reaches the user


def test_eventsource_on_a_post_route_fails_for_good(page, pitfalls):
    _, server = pitfalls
    page.goto(f"{server.url}/runs")
    state = page.evaluate("""() => new Promise((resolve) => {
        const source = new EventSource("seed/chat-stream?message=hi");
        let errors = 0;
        source.onerror = () => { errors++; };
        setTimeout(() => resolve({readyState: source.readyState, errors}), 1500);
    })""")
    assert state == {"readyState": 2, "errors": 1}  # CLOSED after one error: 405 is never retried


def test_a_page_that_does_not_close_reruns_the_generation(page, pitfalls):
    app, server = pitfalls
    before = app.state.runs["ends"]
    page.goto(f"{server.url}/reconnect-loop.html?stream=ends")
    sample(page, "lab.opens", until="lab.opens >= 3", timeout=20)
    assert app.state.runs["ends"] - before >= 3  # each reconnect ran the generation again


def test_a_done_event_without_data_is_never_seen_so_the_page_reruns_the_generation(page, pitfalls):
    app, server = pitfalls
    before = app.state.runs["bare-done"]
    page.goto(f"{server.url}/reconnect-loop.html?stream=bare-done")
    sample(page, "lab.opens", until="lab.opens >= 3", timeout=20)
    assert page.evaluate("lab.done") == 0  # it waited for `done`, which never came ...
    assert app.state.runs["bare-done"] - before >= 3  # ... and did not wait forever: it ran the stream again


def test_a_done_event_with_a_data_line_closes_the_page_after_one_run(page, pitfalls):
    app, server = pitfalls
    before = app.state.runs["with-done"]
    page.goto(f"{server.url}/reconnect-loop.html?stream=with-done")
    sample(page, "lab.done", until="lab.done === 1")
    page.wait_for_timeout(1500)  # three of the stream's reconnect delays
    assert page.evaluate("lab.opens") == 1 and app.state.runs["with-done"] - before == 1
