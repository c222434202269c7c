"""Run an ASGI app with uvicorn in a background thread of the Jupyter kernel.

Why a thread: the kernel already runs an asyncio loop. `uvicorn.run` would start a
second one (and fails), and a server task on the kernel's own loop deadlocks any
synchronous client called from a cell (`httpx.get` blocks the loop the server needs).
"""

from __future__ import annotations

import copy
import gc
import logging
import os
import socket
import threading
import time
from contextlib import contextmanager
from dataclasses import dataclass, field

import uvicorn

__all__ = [
    "LoopbackAddresses",
    "ServerHandle",
    "ServerStartError",
    "SimulatedDrop",
    "serve",
    "running_servers",
    "stop_all",
    "public_url",
    "server_errors",
    "root_cause",
    "collect_garbage_after_each_cell",
]

_lock = threading.Lock()  # guards _servers: cells and server threads start and stop servers
_servers: dict[str, ServerHandle] = {}


class ServerStartError(RuntimeError):
    """The server could not start; the message says why and what to do."""


class SimulatedDrop(ConnectionAbortedError):
    """Raise it inside a response to make uvicorn abort the connection, as a network failure would."""


def root_cause(exc: BaseException | None) -> BaseException | None:
    """The error inside single-error exception groups (task groups wrap what they re-raise)."""
    while isinstance(exc, BaseExceptionGroup) and len(exc.exceptions) == 1:
        exc = exc.exceptions[0]
    return exc


class _HideSimulatedDrops(logging.Filter):
    """A simulated drop is a lesson, not a bug: uvicorn need not print its traceback."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not (record.exc_info and isinstance(root_cause(record.exc_info[1]), SimulatedDrop))


_HIDE_DROPS = _HideSimulatedDrops()


class LoopbackAddresses:
    """`url` and `public_url` of anything listening on 127.0.0.1:`self.port`."""

    port: int

    @property
    def url(self) -> str:
        """The address for clients in the kernel: `http://127.0.0.1:PORT`."""
        return f"http://127.0.0.1:{self.port}"

    @property
    def public_url(self) -> str:
        """The address for the browser, through jupyter-server-proxy."""
        return public_url(self.port)


@dataclass
class ServerHandle(LoopbackAddresses):
    """A server `serve` started: its name and port (`url` and `public_url` from LoopbackAddresses), and `stop()`.

    Also a context manager, for a server that lives for one `with` block (tests, short demos).
    """

    name: str
    port: int
    server: uvicorn.Server = field(repr=False)
    thread: threading.Thread = field(repr=False)
    sock: socket.socket = field(repr=False)
    app: object = field(default=None, repr=False)  # the ASGI app it serves, as given to `serve`

    @property
    def running(self) -> bool:
        return self.thread.is_alive()

    def __enter__(self) -> ServerHandle:
        return self

    def __exit__(self, *exc) -> None:
        self.stop()

    def stop(self, timeout: float = 5.0) -> None:
        """Stop serving, close open streams and free the port."""
        self.server.should_exit = True
        self.thread.join(timeout)
        if self.thread.is_alive():  # open streams did not finish in the grace period
            self.server.force_exit = True
            self.thread.join(timeout)
        self.sock.close()
        with _lock:
            if _servers.get(self.name) is self:
                del _servers[self.name]


def public_url(port: int, path: str = "") -> str:
    """`<base>proxy/<port>/<path>`: base is JUPYTERHUB_SERVICE_PREFIX on Binder/JupyterHub, else `/`."""
    base = os.environ.get("JUPYTERHUB_SERVICE_PREFIX", "/")
    if not base.endswith("/"):
        base += "/"
    return f"{base}proxy/{port}/{path.lstrip('/')}"


def _bind(port: int) -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind(("127.0.0.1", port))
    except OSError as exc:
        sock.close()
        raise ServerStartError(
            f"127.0.0.1:{port} is taken ({exc.strerror}). "
            "Use port=0 to let the system pick a free port, or stop the program that holds it."
        ) from None
    sock.listen(128)
    return sock


def _logging_at(log_level: str) -> dict:
    """uvicorn's own logging config, with its loggers already at `log_level`.

    uvicorn.Config applies its config (every logger at INFO) and only then lowers the levels. In that
    instant another server of this kernel could log an access line, which landed in a notebook cell
    (a make check run saw one). Starting from the wanted level leaves no such instant.
    """
    config = copy.deepcopy(uvicorn.config.LOGGING_CONFIG)
    for name in ("uvicorn.error", "uvicorn.access"):
        config["loggers"][name]["level"] = log_level.upper()
    return config


def serve(
    app, *, name: str = "app", port: int = 0, log_level: str = "warning", startup_timeout: float = 10.0
) -> ServerHandle:
    """Start `app` on 127.0.0.1 in a daemon thread and return once it accepts connections.

    A server already running under the same `name` is stopped first, so re-running
    the cell that calls `serve` never leaves two servers or a taken port behind.
    """
    with _lock:
        old = _servers.pop(name, None)
    if old is not None:
        old.stop()
    sock = _bind(port)
    config = uvicorn.Config(
        app,
        log_level=log_level,
        log_config=_logging_at(log_level),
        lifespan="off",  # no startup hooks: nothing can make uvicorn sys.exit the kernel
        timeout_graceful_shutdown=1,  # open streams get one second, then are closed
        ws="websockets-sansio",
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(
        target=server.run, kwargs={"sockets": [sock]}, name=f"uvicorn:{name}", daemon=True
    )
    handle = ServerHandle(
        name=name, port=sock.getsockname()[1], server=server, thread=thread, sock=sock, app=app
    )
    thread.start()
    deadline = time.monotonic() + startup_timeout
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            server.should_exit = True
            sock.close()
            raise ServerStartError(f"Server {name!r} did not start; see the log above for uvicorn's reason.")
        time.sleep(0.01)
    logging.getLogger("uvicorn.error").addFilter(_HIDE_DROPS)  # adding the same filter twice is a no-op
    with _lock:
        _servers[name] = handle
    return handle


def running_servers() -> dict[str, ServerHandle]:
    """The servers running now, by name (a copy: stopping one does not change it)."""
    with _lock:
        return dict(_servers)


def stop_all() -> None:
    """Stop every server this kernel started, to free their ports without a kernel restart."""
    for handle in running_servers().values():
        handle.stop()


@contextmanager
def server_errors():
    """Collect the errors uvicorn logs (as "Type: message" lines) instead of printing them.

    A server thread's traceback would land in whichever cell happens to be running;
    inside this block it is kept for the cell that caused it to show.
    """
    caught: list[str] = []

    def keep(record: logging.LogRecord) -> bool:
        exc = root_cause(record.exc_info[1]) if record.exc_info else None
        caught.append(
            f"{record.getMessage().strip()} -> {type(exc).__name__}: {exc}"
            if exc
            else record.getMessage().strip()
        )
        return False

    logger = logging.getLogger("uvicorn.error")
    logger.addFilter(keep)
    try:
        yield caught
    finally:
        time.sleep(0.05)  # the server thread may log just after the client saw the failure
        logger.removeFilter(keep)


def _collect_garbage(result=None) -> None:
    gc.collect()


def collect_garbage_after_each_cell() -> None:
    """Run Python's garbage collector after every cell, on the kernel's own thread.

    Why: a coroutine that never started (what a failing `asyncio.run(...)` leaves) is reported
    with a RuntimeWarning when it is collected. If the collector runs while some thread is inside
    a namedtuple's generated `__new__`, whose globals hold no builtins, that warning cannot import
    `warnings`, and "Exception ignored ... KeyError: '__import__'" lands in whatever cell runs
    then (a CPython quirk; a make check run saw it). Collected after each cell, the warning is
    issued where it works, and a warnings filter can hide it. Running the cell again adds nothing.
    """
    from IPython import get_ipython

    shell = get_ipython()
    if shell is not None and _collect_garbage not in shell.events.callbacks["post_run_cell"]:
        shell.events.register("post_run_cell", _collect_garbage)
