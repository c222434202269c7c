"""A private Redis for the lessons: Debian's `redis-server` as a child process of the kernel.

It binds 127.0.0.1 on a free port, keeps nothing on disk (no RDB snapshots, no AOF), stops
with the kernel, and is restartable by name, like `kernel_server.serve`. Where no
`redis-server` is installed, `start_redis` raises `ServiceUnavailable` with one line that
says how to install it; `start_redis_or_explain` prints that line and returns None, so a
notebook goes on with the SQLite store.
"""

from __future__ import annotations

import socket
from dataclasses import dataclass

from .local_service import LocalService, ServiceHandle, ServiceUnavailable, find_program, start_service

__all__ = ["RedisServer", "start_redis", "start_redis_or_explain", "INSTALL_HINT"]

INSTALL_HINT = "sudo apt-get install redis-server"  # Debian and Ubuntu; on macOS: brew install redis


@dataclass
class RedisServer(ServiceHandle):
    @property
    def url(self) -> str:
        """The address for the redis client and for `STREAM_STORE`: `redis://127.0.0.1:PORT/0`."""
        return f"redis://127.0.0.1:{self.port}/0"


def _answers_ping(service: LocalService) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", service.port), timeout=1) as sock:
            sock.sendall(b"PING\r\n")
            return sock.recv(64).startswith(b"+PONG")
    except OSError:
        return False


def start_redis(name: str = "redis") -> RedisServer:
    """Start (or restart, under the same name) a redis-server on a free loopback port."""
    program = find_program("redis-server", INSTALL_HINT)

    def command(port, folder):
        return [
            program,
            "--port",
            str(port),
            "--bind",
            "127.0.0.1",
            "--save",
            "",
            "--appendonly",
            "no",  # a lesson's streams need not survive a restart
            "--dir",
            str(folder),
            "--daemonize",
            "no",
            "--protected-mode",
            "yes",
        ]

    return RedisServer(start_service(name, command, ready=_answers_ping))


def start_redis_or_explain(name: str = "redis") -> RedisServer | None:
    """`start_redis`, or None after printing the one line that says what is missing and how to install it."""
    try:
        return start_redis(name)
    except ServiceUnavailable as missing:
        print(missing)
        return None
