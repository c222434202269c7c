"""One uvicorn worker in a process of its own, for measurements the kernel would blur.

`kernel_server.serve` runs an app in a thread of the kernel: right for lessons, wrong for
measuring a server's memory or CPU, because the kernel's own work lands in the same
numbers. A worker started here is a separate process, so `rss()` and `cpu_seconds()` are
the server's alone.

    worker = start_worker("helpers.paced_streams:create_app", name="nb08-paced")
    worker.url, worker.rss(), worker.cpu_seconds(), worker.open_files()

It is a `local_service`: 127.0.0.1 on a free port, restartable by name, stopped with the
kernel. `fd_limit` lowers the worker's open-file limit (ulimit -n) to show what happens
when it is reached; `limit_concurrency` is uvicorn's own guard, which answers 503 instead.
"""

from __future__ import annotations

import argparse
import importlib
import resource
import sys
from dataclasses import dataclass, field
from pathlib import Path

from .kernel_server import LoopbackAddresses
from .local_service import LocalService, ServiceHandle, start_service

__all__ = ["Worker", "start_worker", "open_file_limit"]


@dataclass
class Worker(ServiceHandle, LoopbackAddresses):
    service: LocalService = field(repr=False)
    factory: str

    @property
    def pid(self) -> int:
        return self.service.process.pid

    def _process(self):
        import psutil

        return psutil.Process(self.pid)

    def rss(self) -> int:
        """Resident memory of the worker process, in bytes."""
        return self._process().memory_info().rss

    def cpu_seconds(self) -> float:
        """CPU time (user + system) the worker has used so far."""
        times = self._process().cpu_times()
        return times.user + times.system

    def open_files(self) -> int:
        """File descriptors the worker holds now (sockets included)."""
        return self._process().num_fds()


def open_file_limit() -> tuple[int, int]:
    """This process's (soft, hard) open-file limit: what `ulimit -n` and `ulimit -Hn` print."""
    return resource.getrlimit(resource.RLIMIT_NOFILE)


def start_worker(
    factory: str, *, name: str, fd_limit: int | None = None, limit_concurrency: int | None = None
) -> Worker:
    """Serve `factory` ("module:function" returning an ASGI app) in a new process on 127.0.0.1."""

    def command(port: int, folder: Path) -> list[str]:
        args = [sys.executable, "-m", "helpers.worker_process", factory, "--port", str(port)]
        if fd_limit is not None:
            args += ["--fd-limit", str(fd_limit)]
        if limit_concurrency is not None:
            args += ["--limit-concurrency", str(limit_concurrency)]
        return args

    return Worker(service=start_service(name, command), factory=factory)


def _main(argv: list[str]) -> None:
    import uvicorn

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("factory")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--fd-limit", type=int)
    parser.add_argument("--limit-concurrency", type=int)
    options = parser.parse_args(argv)
    _soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    try:  # each open stream holds a socket: allow as many as the hard limit, unless told fewer
        resource.setrlimit(
            resource.RLIMIT_NOFILE, (hard if options.fd_limit is None else min(options.fd_limit, hard), hard)
        )
    except (ValueError, OSError):  # an unlimited hard limit (macOS): keep the soft one
        pass
    module, _, function = options.factory.partition(":")
    app = getattr(importlib.import_module(module), function)()
    uvicorn.run(
        app,
        host="127.0.0.1",
        port=options.port,
        log_level="warning",
        access_log=False,
        lifespan="off",
        limit_concurrency=options.limit_concurrency,
        timeout_graceful_shutdown=1,  # open streams get 1 s at stop
    )


if __name__ == "__main__":
    _main(sys.argv[1:])
