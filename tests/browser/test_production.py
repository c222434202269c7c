"""Notebook 08 in Chromium: the ways to authenticate a stream, and streams through nginx."""

import pytest

from helpers.auth_demo import create_app as create_auth_app
from helpers.chromium import OPEN_EVENT_SOURCES
from helpers.embedded_model import reply_for
from helpers.kernel_server import serve
from helpers.nginx_proxy import nginx_missing, start_proxy
from helpers.proxy_lab import create_app as create_proxy_lab

from ..support import sample

pytestmark = pytest.mark.browser
FULL = "".join(reply_for("What is SSE?"))


@pytest.fixture(scope="module")
def origins():
    """A page on one origin and the API on another (another port of 127.0.0.1)."""
    with serve(create_auth_app(), name="browser-auth-page") as page_server:
        api = create_auth_app(allowed_origins=(page_server.url,), token_delay=0.01)
        with serve(api, name="browser-auth-api") as api_server:
            yield page_server, api_server


def try_every_way(page, url):
    page.goto(url)
    sample(page, "lab.state", until="lab.state === 'done'")
    return page.evaluate("lab.results")


def test_across_origins_only_credentialed_cookies_query_tokens_tickets_and_fetch_with_a_header_get_the_stream(
    page, origins
):
    page_server, api_server = origins
    results = try_every_way(page, f"{page_server.url}/auth.html?autostart=1&api={api_server.url}/")
    states = {way: result["state"] for way, result in results.items()}
    assert states == {
        "cookie, withCredentials": "done",
        "cookie, no withCredentials": "refused",  # cross-origin EventSource sends no cookie without it
        "EventSource + header": "refused",  # EventSource cannot send Authorization
        "token in the query": "done",
        "one-time ticket": "done",
        "fetch() + header": "done",
    }, results
    for way, state in states.items():
        if state == "done":
            assert results[way]["text"] == FULL and results[way]["tokens"] == len(
                reply_for("What is SSE?")
            ), way


def test_on_its_own_origin_eventsource_sends_the_cookie_without_being_asked(page, origins):
    page_server, _ = origins
    results = try_every_way(page, f"{page_server.url}/auth.html?autostart=1")
    assert results["cookie, no withCredentials"]["state"] == "done"
    assert results["EventSource + header"]["state"] == "refused"


# --- through nginx ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def upstream():
    if (missing := nginx_missing()) is not None:
        pytest.fail(missing, pytrace=False)  # CI installs nginx: a missing one is a broken machine there
    with serve(create_proxy_lab(), name="browser-proxy-upstream") as handle:
        yield handle


def type_through(page, url):
    """Open the typing page, sample the text length while it types, return (samples, arrival times)."""
    page.goto(url)
    samples = sample(
        page, "lab.text.length", until="lab.state === 'done' || lab.state === 'error'", every=0.05
    )
    assert page.evaluate("lab.state") == "done"
    return samples, page.evaluate("lab.arrivals")


def test_through_nginx_a_stream_types_live_with_x_accel_buffering_and_arrives_whole_without(page, upstream):
    with start_proxy(upstream.port, name="browser-nginx") as proxy:  # nginx's defaults: proxy_buffering on
        live_samples, live = type_through(page, f"{proxy.url}/typing.html?n=20&delay=0.08&accel=1")
        _, held = type_through(page, f"{proxy.url}/typing.html?n=20&delay=0.08")
    assert len(live) == len(held) == 20
    distinct = sorted(set(live_samples))
    assert len(distinct) >= 5 and live_samples == sorted(live_samples), live_samples  # it typed, in steps
    # The same page, the same stream, the same run: unbuffered tokens are spread over the stream's
    # 1.6 s, buffered ones arrive in one piece at the end.
    assert held[-1] - held[0] < (live[-1] - live[0]) / 4, (held, live)


def test_http2_through_nginx_lifts_the_six_connections_per_origin_limit(browser, upstream):
    context = browser.new_context(ignore_https_errors=True)  # nginx's certificate is self-signed
    plain = start_proxy(upstream.port, name="browser-nginx", buffering=False)
    tls = start_proxy(upstream.port, name="browser-nginx-h2", buffering=False, tls_http2=True)
    try:
        results = []
        for proxy in (plain, tls):
            page = context.new_page()
            page.goto(proxy.url + "/")
            results.append(page.evaluate(OPEN_EVENT_SOURCES, ["ticks?seconds=10", 8, 2]))
            page.close()
        http1, http2 = results
    finally:
        context.close()
        plain.stop()
        tls.stop()
    assert http1 == {"opened": 6, "protocol": "http/1.1"}
    assert http2 == {"opened": 8, "protocol": "h2"}
