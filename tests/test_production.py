"""Notebook 08's helpers: nginx as a child process, worker processes and their load, slow readers, auth."""

import asyncio
import os
import runpy
import socket
import time
from pathlib import Path

import httpx
import psutil
import pytest
from httpx_sse import connect_sse

from helpers import nginx_proxy
from helpers.auth_demo import create_app as create_auth_app
from helpers.backpressure import watch_slow_reader
from helpers.exercises import NotSolvedYet, check_with_pings
from helpers.kernel_server import serve
from helpers.load_client import run_load
from helpers.local_service import ServiceUnavailable, running_services
from helpers.proxy_lab import Arrivals, delivery, event_arrivals
from helpers.proxy_lab import create_app as create_proxy_lab
from helpers.sse import comment
from helpers.worker_concurrency import biggest_step
from helpers.worker_process import start_worker

NGINX = nginx_proxy.nginx_missing() is None
needs_nginx = pytest.mark.skipif(not NGINX, reason="nginx is not installed (sudo apt-get install nginx)")
SOLUTIONS = Path(__file__).resolve().parent.parent / "notebooks" / "solutions"


def port_is_free(port: int) -> bool:
    with socket.socket() as sock:
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
        return True


@pytest.fixture(scope="module")
def upstream():
    with serve(create_proxy_lab(), name="test-upstream") as handle:
        yield handle


# --- nginx ---------------------------------------------------------------------------------


@needs_nginx
def test_nginx_proxies_on_loopback_keeps_its_files_in_its_folder_and_frees_everything_on_stop(upstream):
    proxy = nginx_proxy.start_proxy(upstream.port, name="test-nginx")
    folder, port, master = proxy.folder, proxy.port, psutil.Process(proxy.service.process.pid)
    try:
        assert httpx.get(proxy.url + "/").status_code == 200
        listening = {
            c.laddr
            for p in [master, *master.children()]
            for c in p.net_connections("tcp")
            if c.status == "LISTEN"
        }
        assert listening == {("127.0.0.1", port)}
        assert {"nginx.conf", "access.log", "error.log", "proxy"} <= {p.name for p in folder.iterdir()}
        assert '"GET / HTTP/1.1" 200' in proxy.logged('"GET / ')
    finally:
        proxy.stop()
    assert not folder.exists()
    assert not master.is_running() or master.status() == psutil.STATUS_ZOMBIE
    assert port_is_free(port)


@needs_nginx
def test_starting_a_name_again_replaces_the_proxy(upstream):
    first = nginx_proxy.start_proxy(upstream.port, name="test-nginx-restart")
    second = nginx_proxy.start_proxy(upstream.port, name="test-nginx-restart", buffering=False)
    try:
        assert first.service.process.poll() is not None  # the first nginx was stopped
        assert running_services()["test-nginx-restart"] is second.service
        assert "proxy_buffering off;" in second.config()
        assert httpx.get(second.url + "/").status_code == 200
    finally:
        second.stop()


@needs_nginx
def test_nginx_spills_to_its_own_temp_folder_even_when_root_hands_its_worker_to_nobody():
    from fastapi import FastAPI
    from fastapi.responses import Response

    app = FastAPI()
    body = os.urandom(8 << 20)

    @app.get("/big")
    def big():
        return Response(body, media_type="application/octet-stream")

    with (
        serve(app, name="test-large") as server,
        nginx_proxy.start_proxy(server.port, name="test-nginx-root") as proxy,
    ):
        with httpx.stream("GET", proxy.url + "/big", timeout=30) as response:
            time.sleep(1.0)  # a slow client: nginx must spill the rest of the 8 MiB to proxy_temp_path
            received = response.read()
        worker_users = [w.username() for w in psutil.Process(proxy.service.process.pid).children()]
        log = "\n".join(proxy.error_log())
    assert received == body
    assert "buffered to a temporary file" in log and "Permission denied" not in log and "[crit]" not in log
    if os.geteuid() == 0:  # root's nginx gives its worker to an unprivileged user, who must reach the folder
        assert worker_users and "root" not in worker_users


def test_a_missing_nginx_is_one_line_that_says_how_to_install_it(monkeypatch):
    monkeypatch.setenv("STREAMING_LAB_NGINX", "/nonexistent/nginx")
    message = nginx_proxy.nginx_missing()
    assert message is not None and "\n" not in message and "apt-get install nginx" in message
    with pytest.raises(ServiceUnavailable, match="apt-get install nginx"):
        nginx_proxy.start_proxy(1, name="test-nginx-missing")


@needs_nginx
def test_buffering_holds_a_short_stream_and_x_accel_buffering_releases_it(upstream):
    with nginx_proxy.start_proxy(upstream.port, name="test-nginx-buffering") as proxy:
        held = asyncio.run(event_arrivals(proxy.url + "/tokens?n=12&delay=0.05"))
        live = asyncio.run(event_arrivals(proxy.url + "/tokens?n=12&delay=0.05&accel=1"))
    assert held.complete and live.complete and len(held.times) == len(live.times) == 12
    spread = lambda a: a.times[-1] - a.times[0]  # noqa: E731
    assert spread(held) < spread(live) / 4  # buffered: all at once; unbuffered: spread over the stream
    assert delivery(held) == "in one burst at the end"


@needs_nginx
def test_a_short_read_timeout_cuts_a_silent_stream_and_comment_pings_keep_it(upstream):
    with nginx_proxy.start_proxy(upstream.port, name="test-nginx-timeout", read_timeout=1.0) as proxy:
        cut = asyncio.run(event_arrivals(proxy.url + "/tokens?n=6&delay=0.01&accel=1&idle=2.5"))
        kept = asyncio.run(event_arrivals(proxy.url + "/tokens?n=6&delay=0.01&accel=1&idle=2.5&ping=0.2"))
        errors = proxy.error_log()
    assert not cut.complete and cut.error and len(cut.times) == 3
    assert kept.complete and kept.error is None and len(kept.times) == 6
    assert any("upstream timed out" in line for line in errors)


@needs_nginx
def test_query_strings_stay_out_of_the_log_when_asked(upstream):
    with nginx_proxy.start_proxy(upstream.port, name="test-nginx-log", log_query=False) as proxy:
        httpx.get(proxy.url + "/tokens?n=1&delay=0&secret=lab_hidden")
        assert '"GET /tokens HTTP/1.1" 200' in proxy.logged("/tokens")
        assert "lab_hidden" not in "\n".join(proxy.access_log())


def test_delivery_names_live_bursts_and_one_burst():
    assert delivery(Arrivals("a", times=[0.1 * i for i in range(10)])) == "live"
    assert delivery(Arrivals("b", times=[1.0] * 10)) == "in one burst at the end"
    assert delivery(Arrivals("c", times=[0.5] * 5 + [1.0] * 5)) == "in 2 bursts"
    assert delivery(Arrivals("d")) == "no events"


# --- worker processes and the load client ---------------------------------------------------


@pytest.fixture(scope="module")
def paced():
    with start_worker("helpers.paced_streams:create_app", name="test-paced") as worker:
        yield worker


def test_the_load_client_reads_the_same_events_as_httpx_sse(paced):
    url = paced.url + "/stream?tokens=5&interval=0.01"
    with httpx.Client() as client, connect_sse(client, "GET", url) as source:
        expected = [(sse.event, sse.data) for sse in source.iter_sse()]
    report = run_load(url, streams=3, timeout=20)
    assert report.ok == 3 and report.errors == {}
    assert [s.events for s in report.streams] == [len(expected)] * 3
    assert all(
        len(s.latencies_ms) == 5 and all(0 <= ms < 10_000 for ms in s.latencies_ms) for s in report.streams
    )


def test_the_load_client_times_each_stream_from_its_own_start_and_from_the_load_start(paced):
    report = run_load(paced.url + "/stream?tokens=2&interval=0.01", streams=3, timeout=20, stagger=0.4)
    opened = [s.opened for s in report.streams]
    assert all(start >= index * 0.4 - 0.01 for index, start in enumerate(opened)), opened  # staggered starts
    assert report.first_event_since_load_start_s == [
        start + s.first_event for start, s in zip(opened, report.streams, strict=True)
    ]
    assert report.first_event_s == [s.first_event for s in report.streams]


def test_the_load_client_reports_refusals_and_status_codes(paced):
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        closed = sock.getsockname()[1]
    refused = run_load(f"http://127.0.0.1:{closed}/", streams=2, timeout=5)
    assert refused.statuses == {None: 2} and all("ConnectionRefused" in e for e in refused.errors)
    missing = run_load(paced.url + "/nothing-here", streams=1, timeout=5)
    assert missing.statuses == {404: 1}


def test_a_worker_is_a_separate_process_on_loopback_and_stop_frees_its_port():
    worker = start_worker("helpers.paced_streams:create_app", name="test-worker-stop")
    port, pid = worker.port, worker.pid
    assert pid != os.getpid() and worker.rss() > 0
    assert httpx.get(worker.url + "/health").json() == {"ok": True}
    assert {c.laddr for c in psutil.Process(pid).net_connections("tcp") if c.status == "LISTEN"} == {
        ("127.0.0.1", port)
    }
    worker.stop()
    assert not psutil.pid_exists(pid) or psutil.Process(pid).status() == psutil.STATUS_ZOMBIE
    assert port_is_free(port)


def test_fd_limit_and_limit_concurrency_reach_the_worker():
    with start_worker(
        "helpers.paced_streams:create_app", name="test-worker-limits", fd_limit=64, limit_concurrency=2
    ) as worker:
        assert psutil.Process(worker.pid).rlimit(psutil.RLIMIT_NOFILE)[0] == 64
        report = run_load(worker.url + "/stream?tokens=20&interval=0.1", streams=5, timeout=10, stagger=0.05)
    assert report.statuses[200] >= 1 and report.statuses[503] >= 1  # over the limit: a 503, never a hang
    assert report.statuses[None] == 0


# --- slow readers ---------------------------------------------------------------------------


def test_flow_control_stops_the_producer_while_an_unbounded_queue_grows_and_a_bounded_one_cuts_the_reader():
    with start_worker("helpers.backpressure:create_app", name="test-backpressure") as worker:
        flow = watch_slow_reader(worker, "flow", seconds=2.0, rate=8000)
        unbounded = watch_slow_reader(worker, "unbounded", seconds=2.0, rate=8000)
        bounded = watch_slow_reader(worker, "bounded", seconds=2.0, rate=8000, limit=256)
    # stopped, nothing queued
    assert flow[-1]["held_bytes"] == 0 and flow[-1]["produced"] == flow[-2]["produced"]
    # still growing
    assert unbounded[-1]["held_bytes"] > unbounded[len(unbounded) // 2]["held_bytes"] > 256 * 1024
    assert bounded[-1]["disconnected"] == 1 and bounded[-1]["held_bytes"] == 0


# --- authentication -------------------------------------------------------------------------


@pytest.fixture(scope="module")
def auth():
    app = create_auth_app(allowed_origins=("http://127.0.0.1:1",), token_delay=0)
    with serve(app, name="test-auth") as handle:
        yield handle


def logged_in(auth) -> tuple[httpx.Client, str]:
    client = httpx.Client(base_url=auth.url)
    assert client.post("/login", json={"user": "ada"}).status_code == 200
    return client, client.get("/token").json()["token"]


@pytest.mark.parametrize(
    "path",
    ["/stream/cookie", "/stream/query", "/stream/ticket", "/stream/header", "/stream/query?token=wrong"],
)
def test_every_stream_refuses_a_missing_credential_with_401_json_before_any_event(auth, path):
    response = httpx.get(auth.url + path)
    assert response.status_code == 401
    assert response.headers["content-type"] == "application/json"
    assert response.json()["detail"]["code"] == "unauthorized"


def test_each_credential_opens_the_stream_for_its_user(auth):
    client, token = logged_in(auth)
    plain = httpx.Client(base_url=auth.url)
    for response in (
        client.get("/stream/cookie"),
        plain.get("/stream/query", params={"token": token}),
        plain.get("/stream/header", headers={"Authorization": f"Bearer {token}"}),
    ):
        assert response.status_code == 200 and response.headers["content-type"].startswith(
            "text/event-stream"
        )
        assert '"user": "ada"' in response.text and "event: done" in response.text


def test_a_ticket_opens_one_stream_once_and_expires(auth, monkeypatch):
    _, token = logged_in(auth)

    def tickets():
        answer = httpx.post(auth.url + "/tickets", headers={"Authorization": f"Bearer {token}"})
        return answer.json()["ticket"]

    ticket = tickets()
    assert httpx.get(auth.url + "/stream/ticket", params={"ticket": ticket}).status_code == 200
    assert httpx.get(auth.url + "/stream/ticket", params={"ticket": ticket}).status_code == 401
    monkeypatch.setattr("helpers.auth_demo.TICKET_SECONDS", -1.0)  # born expired
    assert httpx.get(auth.url + "/stream/ticket", params={"ticket": tickets()}).status_code == 401
    assert httpx.post(auth.url + "/tickets").status_code == 401  # and only a bearer gets one


def test_cors_names_only_the_allowed_origin_and_allows_the_authorization_header(auth):
    client, _ = logged_in(auth)
    allowed = client.get("/stream/cookie", headers={"Origin": "http://127.0.0.1:1"})
    other = client.get("/stream/cookie", headers={"Origin": "http://evil.example"})
    assert allowed.headers["access-control-allow-origin"] == "http://127.0.0.1:1"
    assert allowed.headers["access-control-allow-credentials"] == "true"
    assert "access-control-allow-origin" not in other.headers
    preflight = httpx.options(
        auth.url + "/stream/header",
        headers={
            "Origin": "http://127.0.0.1:1",
            "Access-Control-Request-Method": "GET",
            "Access-Control-Request-Headers": "authorization",
        },
    )
    assert (
        preflight.status_code == 200
        and "authorization" in preflight.headers["access-control-allow-headers"].lower()
    )


def test_login_validates_the_user_name(auth):
    assert httpx.post(auth.url + "/login", json={"user": "a b"}).status_code == 422
    assert httpx.post(auth.url + "/login", content=b"not json").status_code == 422


# --- concurrency helpers and the exercise -------------------------------------------------


def test_biggest_step_finds_where_first_tokens_jump():
    assert biggest_step([1.0] * 40 + [2.0] * 20) == (40, 1.0)
    assert biggest_step([0.3, 0.1, 0.2, 0.9])[0] == 3


def solution_with_pings():
    return runpy.run_path(str(SOLUTIONS / "08_with_pings.py"))["with_pings"]


def test_the_ping_check_passes_the_solution_and_fails_wait_for_and_no_pings(capsys):
    asyncio.run(check_with_pings(solution_with_pings()))

    from .test_exercises import pings_with_wait_for as cancels_the_source  # the usual wrong answer, kept once

    async def never_pings(events, every):
        async for item in events:
            yield item

    for wrong, hint in (
        (cancels_the_source, "the source was cancelled while it was waiting"),
        (never_pings, "you sent 0 pings"),
    ):
        with pytest.raises(NotSolvedYet, match=hint):
            asyncio.run(check_with_pings(wrong))


def test_the_solution_pings_like_fastapi_sse_does(monkeypatch):
    """fastapi.sse inserts the same keep-alive comment while a generator is silent."""
    import fastapi.routing
    from fastapi import FastAPI
    from fastapi.sse import EventSourceResponse

    monkeypatch.setattr(fastapi.routing, "_PING_INTERVAL", 0.2)
    app = FastAPI()

    @app.get("/", response_class=EventSourceResponse)
    async def silent():
        yield "first"
        await asyncio.sleep(1.2)
        yield "second"

    async def source():
        yield "first"
        await asyncio.sleep(1.2)
        yield "second"

    async def ours():
        return [item async for item in solution_with_pings()(source(), 0.2)]

    with serve(app, name="test-fastapi-pings") as server:
        theirs = httpx.get(server.url).text
    mine = asyncio.run(ours())
    assert comment("ping").encode() == b": ping\n\n" and b": ping\n\n" in theirs.encode()
    # about one per 0.2 s of silence, both
    assert abs(theirs.count(": ping") - mine.count(comment("ping"))) <= 2


def test_every_chinese_quote_in_notebook_08_is_the_source_as_written():
    import re

    import nbformat

    from helpers import course, source_material

    cells = nbformat.read(course.by_number("08").path, as_version=4).cells
    quotes = [q for c in cells if c.cell_type == "markdown" for q in re.findall(r"「(.+?)」", c.source)]
    assert len(quotes) >= 4
    for words in quotes:
        source_material.quote(words)
