"""The capstone's reference solution, its page in Chromium: typing live, an error that keeps the text,
a reload and a dropped connection that continue the same answer, Stop, and a refused prompt.

The grader checks the service through HTTP and the spec's decoder; this is where a real
`EventSource` runs the page that the learner has to write."""

import time

import pytest

from helpers.balancer import balance
from helpers.capstone import course_model, load_service
from helpers.course import NOTEBOOK_DIR
from helpers.kernel_server import serve

from ..support import sample
from .lab_server import jupyterlab

SOLUTION = NOTEBOOK_DIR / "solutions" / "10_capstone"
pytestmark = pytest.mark.browser


class RequestLog:
    """ASGI middleware: (method, path, Last-Event-ID or None) of every request."""

    def __init__(self, app) -> None:
        self.app, self.requests = app, []

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] == "http":
            self.requests.append(
                (
                    scope["method"],
                    scope["path"],
                    dict(scope["headers"]).get(b"last-event-id", b"").decode() or None,
                )
            )
        await self.app(scope, receive, send)

    def resumes(self, prefix: str = "/streams/") -> list[str | None]:
        """The Last-Event-ID of each GET under `prefix`, in order."""
        return [
            resume for method, path, resume in self.requests if method == "GET" and path.startswith(prefix)
        ]


@pytest.fixture(scope="module")
def service():
    requests = RequestLog(load_service(SOLUTION, offline=True).app)
    with serve(requests, name="browser-capstone") as handle:
        handle.requests = requests
        yield handle


@pytest.fixture
def watched(page):
    """The page, with its uncaught errors collected (a JSON.parse(undefined) would land here)."""
    errors = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.errors = errors
    return page


def ask(page, url: str, prompt: str) -> None:
    page.goto(url)
    page.fill("#prompt", prompt)
    page.click("#send")


def records_for(prompt: str) -> list:
    return [r for r in course_model().requests if r.prompt == prompt]


def test_the_answer_types_out_live_and_the_page_closes_on_done(watched, service):
    model, prompt = course_model(), "What is SSE? (browser, live)"
    with model.using(first_token_delay=0.1, token_delay=0.03):
        ask(watched, service.url + "/", prompt)
        lengths = sample(
            watched,
            "document.getElementById('output').textContent.length",
            until="document.body.dataset.state === 'done'",
        )
        watched.wait_for_timeout(1000)  # a page that did not close would reconnect and ask again
    (record,) = records_for(prompt)
    assert watched.inner_text("#output") == model.text_of(record)
    # it grew while tokens arrived
    assert len({n for n in lengths if 0 < n < len(model.text_of(record))}) >= 3
    assert watched.evaluate("source.readyState") == 2 and watched.errors == []


def test_a_model_error_keeps_the_partial_text_and_shows_a_code_and_request_id(watched, service):
    model, prompt = course_model(), "What is SSE? (browser, error)"
    with model.using(fault="error_after", fault_at=6, first_token_delay=0.05, token_delay=0.02):
        ask(watched, service.url + "/", prompt)
        sample(watched, "document.body.dataset.state", until="document.body.dataset.state === 'error'")
    (record,) = records_for(prompt)
    assert watched.inner_text("#output") == model.text_of(record) and len(model.text_of(record)) > 0
    status = watched.inner_text("#status")
    assert "(code model_error, request req_" in status and "simulated" not in status
    watched.wait_for_timeout(1000)
    assert watched.evaluate("source.readyState") == 2 and watched.errors == []


def wait_for_text(watched, chars: int = 20) -> None:
    """Return once the answer on the page is longer than `chars`: the stream is under way."""
    length = "document.getElementById('output').textContent.length"
    sample(watched, length, until=f"{length} > {chars}")


def test_a_reload_mid_stream_follows_the_same_answer_from_its_start(watched, service):
    model, prompt = course_model(), "What is SSE? (browser, reload)"
    with model.using(tokens=80, first_token_delay=0.05, token_delay=0.04):
        ask(watched, service.url + "/", prompt)
        wait_for_text(watched)
        watched.reload()  # the address keeps #stream=<id>
        sample(watched, "document.body.dataset.state", until="document.body.dataset.state === 'done'")
    (record,) = records_for(prompt)  # the reload did not ask the model again
    assert watched.inner_text("#output") == model.text_of(record)
    assert watched.errors == []


def test_a_dropped_connection_resumes_with_last_event_id_without_loss_or_repeat(watched, service):
    model, prompt = course_model(), "What is SSE? (browser, drop)"
    service.requests.requests.clear()
    with (
        balance([service.port], name="browser-capstone-balancer") as balancer,
        model.using(tokens=80, first_token_delay=0.05, token_delay=0.04),
    ):
        ask(watched, balancer.url + "/", prompt)
        wait_for_text(watched)
        assert balancer.drain(service.port) >= 1  # the connection is cut, as a network failure would
        balancer.restore(service.port)  # back in rotation before EventSource reconnects
        states = sample(
            watched, "document.body.dataset.state", until="document.body.dataset.state === 'done'"
        )
    (record,) = records_for(prompt)
    assert "reconnecting" in states
    first, resumed, *_ = service.requests.resumes()
    assert first is None and resumed and resumed.isdigit()  # the reconnect said where it stopped
    assert watched.inner_text("#output") == model.text_of(record)  # every token once, in order
    assert watched.errors == []


def test_stop_ends_the_answer_and_the_model_request(watched, service):
    model, prompt = course_model(), "What is SSE? (browser, stop)"
    with model.using(tokens=3000, first_token_delay=0.05, token_delay=0.02):
        ask(watched, service.url + "/", prompt)
        wait_for_text(watched)
        watched.click("#stop")
        sample(watched, "document.body.dataset.state", until="document.body.dataset.state === 'done'")
    (record,) = records_for(prompt)
    assert watched.inner_text("#status") == "done: stopped"
    deadline = time.monotonic() + 5
    # the model hears the stop a moment later
    while record.status == "running" and time.monotonic() < deadline:
        time.sleep(0.05)
    assert record.status == "cancelled" and record.tokens_sent < 3000
    shown = watched.inner_text("#output")  # a token the model sent as the stop landed may not have been read
    assert len(shown) > 20 and model.text_of(record).startswith(shown)


def test_a_blank_prompt_is_refused_before_any_stream(watched, service):
    before = len(course_model().requests)
    ask(watched, service.url + "/", "   ")
    sample(watched, "document.body.dataset.state", until="document.body.dataset.state === 'refused'")
    assert watched.inner_text("#status").startswith("refused: 422")
    assert watched.evaluate("source") is None and len(course_model().requests) == before


def test_the_starting_page_as_written_fails_once_and_never_reconnects(watched):
    """Notebook 10, section 2: the source's client opens EventSource on its POST route, gets 405,
    throws in its `error` listener (JSON.parse(undefined)), shows its reconnecting message, and stops."""
    starting = RequestLog(load_service(NOTEBOOK_DIR / "capstone", offline=True).app)
    with serve(starting, name="browser-capstone-starting") as server:
        watched.goto(server.url + "/")
        sample(
            watched,
            "document.getElementById('status').textContent",
            until="document.getElementById('status').textContent !== ''",
        )
        watched.wait_for_timeout(1500)  # longer than EventSource's reconnection delay, had it retried
        assert watched.inner_text("#status") == "✗ 连接中断,正在重连..."
        # one GET, never again
        assert watched.evaluate("eventSource.readyState") == 2 and starting.resumes("/chat-stream") == [None]
        assert any("JSON" in error for error in watched.errors)


@pytest.fixture(scope="module")
def proxy(tmp_path_factory):
    """A JupyterLab behind a Binder-like base URL, used only for its jupyter-server-proxy: <lab>proxy/<port>/."""
    with jupyterlab(tmp_path_factory.mktemp("capstone-lab")) as lab:
        yield lambda port: f"{lab}proxy/{port}/"


def test_the_reference_page_streams_through_jupyter_server_proxy(watched, service, proxy):
    model, prompt = course_model(), "What is SSE? (browser, proxy)"
    with model.using(tokens=60, first_token_delay=0.1, token_delay=0.04):
        # fetch("streams") and EventSource("./streams/…"): relative URLs
        ask(watched, proxy(service.port), prompt)
        lengths = sample(
            watched,
            "document.getElementById('output').textContent.length",
            until="document.body.dataset.state === 'done'",
        )
    (record,) = records_for(prompt)
    assert watched.inner_text("#output") == model.text_of(record)
    # live through the proxy, not one burst
    assert len({n for n in lengths if 0 < n < len(model.text_of(record))}) >= 3
    assert watched.errors == []


def test_the_starting_page_reaches_its_own_service_through_the_proxy(watched, proxy):
    """The glue's root-path fix: '/chat-stream' would otherwise leave the proxy for Jupyter's own root."""
    starting = RequestLog(load_service(NOTEBOOK_DIR / "capstone", offline=True).app)
    with serve(starting, name="browser-capstone-starting") as server:
        watched.goto(proxy(server.port))
        sample(
            watched,
            "document.getElementById('status').textContent",
            until="document.getElementById('status').textContent !== ''",
        )
        assert starting.resumes("/chat-stream") == [None]  # the page's GET reached the service: 405 there
        assert watched.inner_text("#status") == "✗ 连接中断,正在重连..."
