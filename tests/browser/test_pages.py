"""The relay's pages and the side-by-side transport pages, in Chromium, against servers on 127.0.0.1.

The source material's pitfall pages are in test_pitfall_pages.py."""

from urllib.parse import quote

import httpx
import pytest

from helpers.balancer import balance
from helpers.chat_app import create_app
from helpers.embedded_model import reply_for
from helpers.kernel_server import serve
from helpers.replicas import start_replica

from ..support import sample, serving, watchable_model

PROMPT = "What is SSE?"
FULL = "".join(reply_for(PROMPT))
TOKENS = len(reply_for(PROMPT))
pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def model():
    return watchable_model()


@pytest.fixture(scope="module")
def relay(model):
    yield from serving(create_app(), "browser-relay")


def open_page(page, url):
    page.goto(url)
    return sample(page, "[lab.text.length, lab.state]", until="lab.state === 'done' || lab.state === 'error'")


def grew_progressively(samples) -> bool:
    lengths = [length for length, _ in samples]
    distinct = sorted(set(lengths))
    return len(distinct) >= 5 and lengths == sorted(lengths)


@pytest.mark.parametrize("path", ["", "fetch"])
def test_tokens_type_out_progressively_and_the_final_text_is_exact(page, relay, path):
    _, server = relay
    urls = []
    page.on("request", lambda request: urls.append(request.url))
    samples = open_page(page, f"{server.url}/{path}?autostart=1#prompt={quote(PROMPT)}")
    assert grew_progressively(samples), samples
    assert page.evaluate("lab.text") == FULL
    assert page.evaluate("lab.docs.length") == 2  # the retrieval step arrived before the tokens
    assert page.locator("#output").inner_text() == FULL
    sent = [url for url in urls if url.startswith(server.url)]
    # the prompt never entered a request URL
    assert sent and not any(quote(PROMPT) in url or "prompt" in url for url in sent)


@pytest.mark.parametrize("path", ["", "fetch"])
def test_an_error_keeps_the_partial_text_and_retry_continues_it(page, relay, path):
    _, server = relay
    open_page(page, f"{server.url}/{path}?autostart=1&fault=error_after&fault_at=8#prompt={quote(PROMPT)}")
    assert page.evaluate("lab.state") == "error"
    partial = "".join(reply_for(PROMPT)[:8])
    assert page.evaluate("lab.text") == partial
    assert "model_error" in page.locator("#error").inner_text()
    page.locator("#retry").click()
    sample(page, "lab.text.length", until="lab.state === 'done'")
    assert page.evaluate("lab.text") == FULL


def test_a_dropped_connection_resumes_without_loss_or_duplicates(page, relay):
    _, server = relay
    page.goto(f"{server.url}/?autostart=1#prompt={quote(PROMPT)}")
    sample(page, "lab.arrivals.length", until="lab.arrivals.length >= 6")
    stream_id = page.evaluate("lab.streamId")
    assert httpx.post(f"{server.url}/streams/{stream_id}/drop").json()["dropped"] == 1
    sample(page, "[lab.state, lab.reconnects]", until="lab.state === 'done'")
    assert page.evaluate("lab.reconnects") >= 1
    assert page.evaluate("lab.arrivals.length") == TOKENS  # each token exactly once
    assert page.evaluate("lab.text") == FULL


def test_a_reload_mid_stream_picks_up_the_same_answer(page, relay, model):
    _, server = relay
    page.goto(f"{server.url}/?autostart=1#prompt={quote(PROMPT)}")
    sample(page, "lab.arrivals.length", until="lab.arrivals.length >= 6")
    stream_id, generations = page.evaluate("lab.streamId"), len(model.requests)
    page.reload()
    sample(page, "lab.text.length", until="lab.state === 'done'")
    assert page.evaluate("lab.streamId") == stream_id  # the same stream, followed from its start
    assert page.evaluate("lab.arrivals.length") == TOKENS and page.evaluate("lab.text") == FULL
    assert len(model.requests) == generations  # the reload did not ask the model again


def test_stop_ends_the_answer_and_the_model_request(page, relay, model):
    _, server = relay
    # 2 tokens a second: Stop comes long before the model could finish, however slow the browser is
    page.goto(f"{server.url}/?autostart=1&token_delay=0.5#prompt={quote(PROMPT)}")
    sample(page, "lab.arrivals.length", until="lab.arrivals.length >= 3")
    page.locator("#stop").click()
    sample(page, "lab.state", until="lab.state === 'stopped'")
    assert page.evaluate("lab.done.reason") == "stopped"
    assert 3 <= page.evaluate("lab.arrivals.length") < TOKENS
    assert FULL.startswith(page.evaluate("lab.text"))
    assert model.last.prompt == PROMPT and model.last.status == "cancelled"


def test_a_finished_stream_does_not_start_again(page, relay, model):
    _, server = relay
    open_page(page, f"{server.url}/?autostart=1#prompt={quote(PROMPT)}")
    requests_after_done = len(model.requests)
    page.wait_for_timeout(1500)  # three reconnect delays of the relay's retry: 500
    assert len(model.requests) == requests_after_done
    assert page.evaluate("lab.opens") == 1  # the page closed its EventSource on done


def test_an_unknown_stream_fails_once_with_404_and_eventsource_does_not_retry(page, relay):
    _, server = relay
    statuses = []
    page.on("response", lambda response: "/streams/" in response.url and statuses.append(response.status))
    page.goto(f"{server.url}/#stream={'0' * 32}")
    sample(page, "lab.state", until="lab.state === 'error'")
    page.wait_for_timeout(1500)  # three of the relay's reconnect delays: no retry may come
    assert statuses == [404]
    assert page.evaluate("lab.opens") == 0
    assert "404" in page.locator("#status").inner_text()


def test_a_finished_stream_answers_204_and_eventsource_stops(page, relay, model):
    _, server = relay
    stream_id = httpx.post(f"{server.url}/streams", json={"prompt": "hi"}).json()["id"]
    page.goto(f"{server.url}/lab.css")
    generations = len(model.requests)
    statuses = []
    page.on("response", lambda response: "/streams/" in response.url and statuses.append(response.status))
    state = page.evaluate(
        """(id) => new Promise((resolve) => {
        const source = new EventSource("streams/" + id);  // never closed: the server must end it
        let opens = 0, done = 0;
        source.onopen = () => { opens++; };
        source.addEventListener("done", () => { done++; });
        const check = setInterval(() => {
            if (source.readyState === EventSource.CLOSED) { clearInterval(check); resolve({opens, done}); }
        }, 50);
    })""",
        stream_id,
    )
    assert state == {"opens": 1, "done": 1}  # one stream, then the reconnect got 204 and EventSource stopped
    assert statuses == [200, 204]
    assert len(model.requests) == generations


def test_a_seventh_eventsource_to_one_origin_waits(page, relay):
    _, server = relay
    stream_id = httpx.post(
        f"{server.url}/streams", json={"prompt": "long", "tokens": 2000, "token_delay": 0.05}
    ).json()["id"]
    page.goto(f"{server.url}/lab.css")
    opened = page.evaluate(
        """(id) => new Promise((resolve) => {
        const sources = [];
        let opens = 0;
        for (let i = 0; i < 7; i++) {
            const source = new EventSource("streams/" + id);
            source.onopen = () => { opens++; };
            sources.push(source);
        }
        const started = performance.now();
        const check = setInterval(() => {
            // six open: wait one more second to see whether the seventh ever opens
            if ((opens >= 6 && performance.now() - started > 1000) || performance.now() - started > 15000) {
                clearInterval(check);
                setTimeout(() => { sources.forEach((s) => s.close()); resolve(opens); }, 1000);
            }
        }, 50);
    })""",
        stream_id,
    )
    httpx.post(f"{server.url}/streams/{stream_id}/stop")
    assert opened == 6  # HTTP/1.1: six connections per origin


@pytest.mark.parametrize("store", ["sqlite", "memory"])
def test_a_resume_lands_on_the_other_replica(page, tmp_path, store):
    """Replicas A and B behind a balancer; A leaves the rotation mid-stream and the page reconnects to B."""
    url = f"sqlite://{tmp_path}/streams.db" if store == "sqlite" else "memory"
    with (
        start_replica("browser-replica-a", url) as a,
        start_replica("browser-replica-b", url) as b,
        balance([a.port, b.port], name="browser-balancer") as balancer,
    ):
        balancer.drain(b.port)  # the page, its POST and its first connection all reach A
        page.goto(f"{balancer.url}/?autostart=1&token_delay=0.05#prompt={quote(PROMPT)}")
        sample(page, "lab.arrivals.length", until="lab.arrivals.length >= 6")
        balancer.restore(b.port)
        assert balancer.drain(a.port) >= 1  # A leaves the rotation (a deploy): its connections are cut
        sample(page, "[lab.state, lab.reconnects]", until="lab.state === 'done' || lab.state === 'error'")
        b_log = b.log(50)
    assert f"GET /streams/{page.evaluate('lab.streamId')}" in b_log  # the reconnect reached B
    if store == "sqlite":
        assert page.evaluate("lab.state") == "done" and page.evaluate("lab.reconnects") >= 1
        assert page.evaluate("lab.arrivals.length") == TOKENS and page.evaluate("lab.text") == FULL
    else:  # B has never heard of the stream: 404, and EventSource stops
        assert page.evaluate("lab.state") == "error" and "404" in page.locator("#status").inner_text()
        assert page.evaluate("lab.arrivals.length") < TOKENS


@pytest.fixture(scope="module")
def transports(model):
    from helpers.transports import create_transport_app

    with serve(create_transport_app(), name="browser-transports") as handle:
        yield handle


@pytest.mark.parametrize("name", ["sse", "ws"])
def test_the_side_by_side_pages_stream_and_stop(page, transports, name):
    page.goto(f"{transports.url}/{name}.html?token_delay=0.03&prompt={quote(PROMPT)}")
    lengths = sample(page, "lab.text.length", until="lab.state.startsWith('done')")
    assert len({n for n in lengths if 0 < n < len(FULL)}) >= 3  # typed out, not all at once
    assert page.evaluate("lab.text") == FULL
    # 2 tokens a second: Stop comes long before the model could finish, however slow the browser is
    page.goto(f"{transports.url}/{name}.html?token_delay=0.5&prompt={quote(PROMPT)}")
    sample(page, "lab.tokens", until="lab.tokens >= 3")
    page.locator("#stop").click()
    sample(page, "lab.state", until="lab.state.startsWith('done')")
    assert '"stopped": true' in page.evaluate("lab.state").replace('"stopped":true', '"stopped": true')
    assert page.evaluate("lab.tokens") < TOKENS
