"""A small TCP load balancer on 127.0.0.1, to put two relay replicas behind one address.

Like a real balancer working at the connection level (nginx `stream`, HAProxy `mode tcp`, a
cloud L4 balancer), it picks a backend for each new TCP connection:
- round robin (default): connection 1 to the first backend, connection 2 to the next, and so on;
- sticky: every connection from one client address to the same backend (`ip_hash`). On
  loopback every client has the address 127.0.0.1, so sticky means "always the same replica".

`drain(port)` takes a backend out of rotation and cuts its open connections, as a rolling
deploy or a scale-in does; the replica itself keeps running. `connections` records which
backend each connection went to. It runs in a thread of its own, so sync and async clients in
the kernel can both use it, is restartable by name, and `stop()` frees its port.
"""

from __future__ import annotations

import asyncio
import itertools
import threading
import time
from dataclasses import dataclass, field

from .kernel_server import LoopbackAddresses

__all__ = ["Balancer", "Routed", "balance"]

_balancers: dict[str, Balancer] = {}
_lock = threading.Lock()


@dataclass
class Routed:
    backend: int  # the backend's port
    client: str
    opened: float = field(default_factory=time.monotonic)


class Balancer(LoopbackAddresses):
    def __init__(self, name: str, backends: list[int], *, sticky: bool = False) -> None:
        if not backends:
            raise ValueError("a balancer needs at least one backend port")
        self.name, self.sticky = name, sticky
        self.backends = list(backends)
        self.active = list(backends)  # in rotation
        self.connections: list[Routed] = []
        self._turn = itertools.count()
        self._pipes: dict[int, set[asyncio.Task]] = {port: set() for port in backends}
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name=f"balancer:{name}", daemon=True)
        self._thread.start()
        self._server = self._call(asyncio.start_server(self._connect, "127.0.0.1", 0))
        self.port = self._server.sockets[0].getsockname()[1]

    def _call(self, coroutine, timeout: float = 10):
        return asyncio.run_coroutine_threadsafe(coroutine, self._loop).result(timeout)

    def choose(self, client: str) -> int:
        if not self.active:
            raise ConnectionRefusedError("no backend in rotation")
        if self.sticky:
            return self.active[sum(client.encode()) % len(self.active)]
        return self.active[next(self._turn) % len(self.active)]

    def served_by(self, port: int) -> int:
        """How many connections went to the backend on `port`."""
        return sum(routed.backend == port for routed in self.connections)

    def drain(self, port: int) -> int:
        """Take the backend on `port` out of rotation and cut its open connections; returns how many were cut."""

        async def drain() -> int:
            if port in self.active:
                self.active.remove(port)
            pipes = list(self._pipes.get(port, ()))
            for pipe in pipes:
                pipe.cancel()
            return len(pipes) // 2  # two pipes per connection

        return self._call(drain())

    def restore(self, port: int) -> None:
        """Put a drained backend back into rotation."""

        async def restore() -> None:
            if port not in self.active:
                self.active.insert(self.backends.index(port), port)

        self._call(restore())

    async def _connect(self, client_reader, client_writer) -> None:
        client = client_writer.get_extra_info("peername")[0]
        try:
            backend = self.choose(client)
            server_reader, server_writer = await asyncio.open_connection("127.0.0.1", backend)
        except OSError:
            client_writer.transport.abort()
            return
        self.connections.append(Routed(backend, client))
        pipes = {
            asyncio.ensure_future(self._pipe(client_reader, server_writer)),
            asyncio.ensure_future(self._pipe(server_reader, client_writer)),
        }
        self._pipes[backend] |= pipes
        await asyncio.gather(*pipes, return_exceptions=True)
        self._pipes[backend] -= pipes
        for writer in (client_writer, server_writer):
            writer.close()

    @staticmethod
    async def _pipe(reader, writer) -> None:
        try:
            while data := await reader.read(65536):
                writer.write(data)
                await writer.drain()
            if writer.can_write_eof():
                writer.write_eof()  # a half-close passes through: HTTP clients may send it
            return
        except (ConnectionError, asyncio.CancelledError):
            pass
        writer.transport.abort()  # cut, or the other side failed: the peer sees a broken connection

    def stop(self) -> None:
        """Close the port and every connection through it."""

        async def close() -> None:
            self._server.close()
            for pipes in self._pipes.values():
                for pipe in list(pipes):
                    pipe.cancel()
            await asyncio.sleep(0)

        if self._loop.is_running():
            self._call(close())
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join(5)
            self._loop.close()
        with _lock:
            if _balancers.get(self.name) is self:
                del _balancers[self.name]

    def __enter__(self) -> Balancer:
        return self

    def __exit__(self, *exc) -> None:
        self.stop()


def balance(backends: list[int], *, name: str = "balancer", sticky: bool = False) -> Balancer:
    """Start a balancer over the backend ports; one running under the same name is stopped first."""
    with _lock:
        old = _balancers.pop(name, None)
    if old is not None:
        old.stop()
    balancer = Balancer(name, backends, sticky=sticky)
    with _lock:
        _balancers[name] = balancer
    return balancer
