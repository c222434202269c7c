"""Servers the course starts as child processes of the kernel (Redis, nginx), on 127.0.0.1.

They follow the same rules as `kernel_server.serve`:
- each has a name, and starting a name that is running stops the old process first, so
  re-running a cell never leaves two servers or a taken port behind;
- each binds 127.0.0.1 on a free port, runs unprivileged, and keeps its files (config,
  logs, temporary files) in a temporary folder that `stop()` removes with the process;
- each stops with the kernel: at interpreter exit, and through the parent-death signal
  if the kernel is killed outright;
- a missing program is a `ServiceUnavailable` whose message is one line saying how to
  install it, so a notebook can print it and carry on.
"""

from __future__ import annotations

import atexit
import ctypes
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

__all__ = [
    "LocalService",
    "ServiceHandle",
    "ServiceUnavailable",
    "ServiceStartError",
    "find_program",
    "start_service",
    "running_services",
    "free_port",
]

_services: dict[str, LocalService] = {}
_lock = threading.Lock()
# Debian installs daemons in sbin, which is not on an ordinary user's PATH.
_SBIN = ("/usr/sbin", "/usr/local/sbin", "/sbin")


class ServiceUnavailable(RuntimeError):
    """The program is not installed here; the message says how to install it."""


class ServiceStartError(RuntimeError):
    """The program is installed but did not start; the message carries the end of its log."""


def find_program(program: str, install: str) -> str:
    """The path of `program`, or ServiceUnavailable naming the `install` command."""
    path = shutil.which(program) or next(
        (str(p) for p in (Path(d) / program for d in _SBIN) if p.exists()), None
    )
    if path is None:
        raise ServiceUnavailable(
            f"{program} is not installed here; install it with `{install}` (the lesson goes on without it)."
        )
    return path


def free_port() -> int:
    """A port that was free a moment ago; the service binds it itself, so `start_service` retries on a race."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _die_with_parent() -> None:
    """Run in the child before exec: Linux sends SIGTERM to it when the kernel dies, even by SIGKILL."""
    try:
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
    except OSError:  # not Linux: atexit still stops it on a normal exit
        pass


@dataclass
class LocalService:
    name: str
    port: int
    process: subprocess.Popen = field(repr=False)
    folder: Path = field(repr=False)

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.port}"

    @property
    def running(self) -> bool:
        return self.process.poll() is None

    def log(self, lines: int = 20) -> str:
        """The end of what the program printed."""
        path = self.folder / "output.log"
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:]) if path.exists() else ""

    def __enter__(self) -> LocalService:
        return self

    def __exit__(self, *exc) -> None:
        self.stop()

    def stop(self, timeout: float = 5.0) -> None:
        """Stop the process (TERM, then KILL), wait for it, free its port and remove its folder."""
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout)
        shutil.rmtree(self.folder, ignore_errors=True)
        with _lock:
            if _services.get(self.name) is self:
                del _services[self.name]


@dataclass
class ServiceHandle:
    """Base for what a helper returns about its LocalService (Redis, a relay replica, nginx, a worker)."""

    service: LocalService

    @property
    def port(self) -> int:
        return self.service.port

    @property
    def running(self) -> bool:
        return self.service.running

    def log(self, lines: int = 20) -> str:
        return self.service.log(lines)

    def stop(self) -> None:
        self.service.stop()

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        self.stop()


def _accepts(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.2):
            return True
    except OSError:
        return False


def start_service(
    name: str,
    command: Callable[[int, Path], list[str]],
    *,
    ready: Callable[[LocalService], bool] | None = None,
    startup_timeout: float = 15.0,
    attempts: int = 3,
    env: dict[str, str] | None = None,
) -> LocalService:
    """Start `command(port, folder)` as a child process and return once its port accepts connections.

    `ready(service)` may add a check of its own (a PING, a GET). A service running under the
    same name is stopped first. If another program takes the port between the choice and the
    bind, the start is tried again on a new port. `env` replaces the child's environment.
    """
    with _lock:
        old = _services.pop(name, None)
    if old is not None:
        old.stop()
    failure = ""
    for _ in range(attempts):
        port, folder = free_port(), Path(tempfile.mkdtemp(prefix=f"streaming-lab-{name}-"))
        with open(folder / "output.log", "wb") as output:
            process = subprocess.Popen(
                command(port, folder),
                cwd=folder,
                stdin=subprocess.DEVNULL,
                stdout=output,
                stderr=subprocess.STDOUT,
                preexec_fn=_die_with_parent,
                env=env,
            )
        service = LocalService(name=name, port=port, process=process, folder=folder)
        deadline = time.monotonic() + startup_timeout
        while service.running and time.monotonic() < deadline:
            if _accepts(port) and (ready is None or ready(service)):
                with _lock:
                    _services[name] = service
                return service
            time.sleep(0.05)
        failure = service.log()
        service.stop()
    raise ServiceStartError(f"{name} did not start on 127.0.0.1; its last output:\n{failure}")


def running_services() -> dict[str, LocalService]:
    with _lock:
        return dict(_services)


@atexit.register
def _stop_all() -> None:
    for service in running_services().values():
        service.stop()
