"""The source material's client and handler, as written, in Chromium, and the reconnect pitfalls.

The page `error-collision.html` runs the source's script character for character
(tests/test_source_material.py checks that); its server runs the source's generator. Where the
`error` name collides (a drop, a crash, the 405) and where not: tests/browser/test_error_collision.py.
"""

import pytest

from helpers.embedded_model import reply_for, server_chat_model
from helpers.kernel_server import serve
from helpers.pitfalls import DEFAULT_MESSAGE, create_pitfall_app

from ..support import sample, serving, watchable_model

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def pitfalls(model):
    yield from serving(create_pitfall_app(), "browser-pitfalls")


@pytest.fixture(scope="module")
def model():
    return watchable_model()


def record(page) -> dict:
    return page.evaluate(
        "({text: lab.text, errors: lab.errors, successes: lab.successes, pageErrors: lab.pageErrors,"
        " opens: lab.opens, connectionErrors: lab.connectionErrors, serverErrors: lab.serverErrors,"
        " readyState: lab.source && lab.source.readyState})"
    )


def test_a_server_error_event_reaches_the_source_listener_with_its_data(page, model):
    """Where the source's design works: its own `event: error` carries data, and the partial text stays."""

    def faulty():
        return server_chat_model(offline=True, extra_body={"lab": {"fault": "error_after", "fault_at": 5}})

    with serve(create_pitfall_app(faulty), name="browser-pitfalls-fault") as server:
        page.goto(f"{server.url}/over-get/error-collision.html")
        sample(page, "lab.errors", until="lab.errors.length > 0")
        page.wait_for_timeout(1000)
        seen = record(page)
    assert seen["text"] == "".join(reply_for(DEFAULT_MESSAGE)[:5])  # kept, as the source intends
    assert seen["serverErrors"] == 1 and seen["connectionErrors"] == 0 and seen["pageErrors"] == []
    assert seen["errors"][0].startswith("生成失败: ") and seen["readyState"] == 2
    # str(e): upstream text reaches the user
    assert seen["errors"][0] == "生成失败: The model failed mid-answer (simulated)."


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
