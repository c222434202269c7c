"""Notebook 08 in Chromium: the ways to authenticate a stream, and streams through nginx."""

import pytest

from helpers.auth_demo import create_app as create_auth_app
from helpers.embedded_model import reply_for
from helpers.kernel_server import serve

from .conftest import sample

pytestmark = pytest.mark.browser
FULL = "".join(reply_for("What is SSE?"))


@pytest.fixture(scope="module")
def origins():
    """A page on one origin and the API on another (another port of 127.0.0.1)."""
    with serve(create_auth_app(), name="browser-auth-page") as page_server:
        api = create_auth_app(allowed_origins=(page_server.url,))
        with serve(api, name="browser-auth-api") as api_server:
            yield page_server, api_server


def try_every_way(page, url):
    page.goto(url)
    sample(page, "lab.state", until="lab.state === 'done'")
    return page.evaluate("lab.results")


def test_across_origins_only_credentialed_cookies_query_tokens_tickets_and_fetch_with_a_header_get_the_stream(page, origins):
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
            assert results[way]["text"] == FULL and results[way]["tokens"] == len(reply_for("What is SSE?")), way


def test_on_its_own_origin_eventsource_sends_the_cookie_without_being_asked(page, origins):
    page_server, _ = origins
    results = try_every_way(page, f"{page_server.url}/auth.html?autostart=1")
    assert results["cookie, no withCredentials"]["state"] == "done"
    assert results["EventSource + header"]["state"] == "refused"
