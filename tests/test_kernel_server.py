import asyncio
import socket
import threading

import httpx
import pytest
from fastapi import FastAPI

from helpers.kernel_server import ServerStartError, public_url, running_servers, serve

app = FastAPI()


@app.get("/")
def hello():
    return {"hello": "world"}


def uvicorn_threads():
    return [t for t in threading.enumerate() if t.name.startswith("uvicorn:restart")]


def test_restarting_ten_times_leaves_one_server_and_one_thread():
    for _ in range(10):
        handle = serve(app, name="restart")
    try:
        assert [h for n, h in running_servers().items() if n == "restart"] == [handle]
        assert len(uvicorn_threads()) == 1
        assert httpx.get(handle.url).json() == {"hello": "world"}
    finally:
        handle.stop()
    assert uvicorn_threads() == []


def test_binds_loopback_only_and_frees_the_port_on_stop():
    handle = serve(app, name="port")
    port = handle.port
    assert handle.url == f"http://127.0.0.1:{port}"
    assert handle.sock.getsockname()[0] == "127.0.0.1"
    handle.stop()
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", port))  # free again


def test_a_taken_port_raises_a_clear_error_and_keeps_the_kernel():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen()
        with pytest.raises(ServerStartError, match="port=0"):
            serve(app, name="taken", port=sock.getsockname()[1])
    assert "taken" not in running_servers()


def test_sync_and_async_clients_from_a_running_loop():
    handle = serve(app, name="clients")

    async def both():
        # a sync call inside a coroutine blocks this loop; the server's loop is another thread's
        sync = httpx.get(handle.url).json()  # noqa: ASYNC210 (blocking here is the point)
        async with httpx.AsyncClient() as client:
            return sync, (await client.get(handle.url)).json()

    try:
        assert asyncio.run(both()) == ({"hello": "world"},) * 2
    finally:
        handle.stop()


def test_public_url_goes_through_the_proxy(monkeypatch):
    monkeypatch.delenv("JUPYTERHUB_SERVICE_PREFIX", raising=False)
    assert public_url(8000) == "/proxy/8000/"
    monkeypatch.setenv("JUPYTERHUB_SERVICE_PREFIX", "/user/ada")
    assert public_url(8000, "/fetch") == "/user/ada/proxy/8000/fetch"


def test_a_with_block_stops_the_server_and_frees_the_port():
    with serve(app, name="with-block") as handle:
        assert httpx.get(handle.url).json() == {"hello": "world"}
    assert not handle.running and "with-block" not in running_servers()
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", handle.port))


def test_starting_a_server_never_turns_access_lines_on_for_the_others(monkeypatch):
    # uvicorn applies its logging config, then its log level: if the config said INFO, another
    # server's access line could print in between. Record the level the config itself leaves.
    import logging.config

    access, levels = logging.getLogger("uvicorn.access"), []
    apply = logging.config.dictConfig

    def recording(config):
        apply(config)
        levels.append(access.level)

    monkeypatch.setattr(logging.config, "dictConfig", recording)
    with serve(FastAPI(), name="test-quiet-start"):
        pass
    assert levels and all(level == logging.WARNING for level in levels), [
        logging.getLevelName(level) for level in levels
    ]


def test_garbage_is_collected_after_each_cell_and_registered_once(monkeypatch):
    import gc
    from types import SimpleNamespace

    import IPython
    from IPython.core.events import EventManager, available_events

    from helpers.kernel_server import collect_garbage_after_each_cell

    shell = SimpleNamespace(events=EventManager(None, available_events))
    monkeypatch.setattr(IPython, "get_ipython", lambda: shell)
    collect_garbage_after_each_cell()
    collect_garbage_after_each_cell()  # the cell run again
    assert len(shell.events.callbacks["post_run_cell"]) == 1
    collections = []
    monkeypatch.setattr(gc, "collect", lambda *args: collections.append(args) or 0)
    shell.events.trigger("post_run_cell", None)
    assert collections == [()]
