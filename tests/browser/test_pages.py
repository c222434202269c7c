"""The relay's pages and the side-by-side transport pages, in Chromium, against servers on 127.0.0.1.

The source material's pitfall pages are in test_pitfall_pages.py."""

from urllib.parse import quote

import httpx
import pytest

from helpers.chat_app import create_app
from helpers.embedded_model import embedded_model, reply_for
from helpers.kernel_server import serve

from .conftest import sample

PROMPT = "What is SSE?"
FULL = "".join(reply_for(PROMPT))
TOKENS = len(reply_for(PROMPT))
pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def model():
    return embedded_model(first_token_delay=0.2, token_delay=0.03)


@pytest.fixture(scope="module")
def relay(model):
    app = create_app(resume_grace=2.0)
    with serve(app, name="browser-relay") as handle:
        yield app, handle


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
    samples = open_page(page, f"{server.url}/{path}?autostart=1&prompt={quote(PROMPT)}")
    assert grew_progressively(samples), samples
    assert page.evaluate("lab.text") == FULL
    assert page.evaluate("lab.docs.length") == 2  # retrieval arrived before the tokens
    assert page.locator("#output").inner_text() == FULL


@pytest.mark.parametrize("path", ["", "fetch"])
def test_an_error_keeps_the_partial_text_and_retry_continues_it(page, relay, path):
    _, server = relay
    open_page(page, f"{server.url}/{path}?autostart=1&fault=error_after&fault_at=8&prompt={quote(PROMPT)}")
    assert page.evaluate("lab.state") == "error"
    partial = "".join(reply_for(PROMPT)[:8])
    assert page.evaluate("lab.text") == partial
    assert "model_error" in page.locator("#error").inner_text()
    page.locator("#retry").click()
    sample(page, "lab.text.length", until="lab.state === 'done'")
    assert page.evaluate("lab.text") == FULL


def test_a_dropped_connection_resumes_without_loss_or_duplicates(page, relay):
    app, server = relay
    page.goto(f"{server.url}/?autostart=1&prompt={quote(PROMPT)}")
    sample(page, "lab.arrivals.length", until="lab.arrivals.length >= 6")
    stream_id = page.evaluate("lab.lastEventId").split(".")[0]
    assert httpx.post(f"{server.url}/chat/{stream_id}/drop").status_code == 202
    sample(page, "[lab.state, lab.reconnects]", until="lab.state === 'done'")
    assert page.evaluate("lab.reconnects") >= 1
    assert page.evaluate("lab.arrivals.length") == TOKENS  # each token exactly once
    assert page.evaluate("lab.text") == FULL


def test_a_finished_stream_does_not_start_again(page, relay, model):
    app, server = relay
    open_page(page, f"{server.url}/?autostart=1&prompt={quote(PROMPT)}")
    requests_after_done = len(model.requests)
    page.wait_for_timeout(1500)  # three reconnect delays of the relay's retry: 500
    assert len(model.requests) == requests_after_done
    assert page.evaluate("lab.opens") == 1


def test_a_seventh_eventsource_to_one_origin_waits(page, relay):
    _, server = relay
    page.goto(f"{server.url}/lab.js")
    opened = page.evaluate("""() => new Promise((resolve) => {
        const sources = [];
        let opens = 0;
        for (let i = 0; i < 7; i++) {
            const source = new EventSource("chat?prompt=long&tokens=2000&token_delay=0.05");
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
    })""")
    assert opened == 6  # HTTP/1.1: six connections per origin


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
    page.goto(f"{transports.url}/{name}.html?token_delay=0.1&prompt={quote(PROMPT)}")
    sample(page, "lab.tokens", until="lab.tokens >= 3")
    page.locator("#stop").click()
    sample(page, "lab.state", until="lab.state.startsWith('done')")
    assert '"stopped": true' in page.evaluate("lab.state").replace('"stopped":true', '"stopped": true')
    assert page.evaluate("lab.tokens") < TOKENS
