"""A byte-counting TCP proxy on 127.0.0.1: what really crosses the wire, in each direction."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field

__all__ = ["CountingProxy", "Traffic"]


@dataclass
class Traffic:
    up: int = 0  # client -> server bytes
    down: int = 0  # server -> client bytes
    first_up: bytes = b""  # the start of each direction, to show headers and handshakes
    first_down: bytes = b""
    keep: int = field(default=600, repr=False)

    def add(self, direction: str, data: bytes) -> None:
        setattr(self, direction, getattr(self, direction) + len(data))
        first = f"first_{direction}"
        if len(getattr(self, first)) < self.keep:
            setattr(self, first, (getattr(self, first) + data)[: self.keep])


class CountingProxy:
    """`async with CountingProxy(port) as proxy:` then connect to `proxy.port`; read `proxy.traffic`.

    It runs on the event loop that starts it, so use it with async clients only.
    """

    def __init__(self, target_port: int) -> None:
        self.target_port = target_port
        self.traffic = Traffic()
        self._server: asyncio.Server | None = None
        self._pipes: set[asyncio.Task] = set()

    @property
    def port(self) -> int:
        return self._server.sockets[0].getsockname()[1]

    async def __aenter__(self) -> CountingProxy:
        self._server = await asyncio.start_server(self._connect, "127.0.0.1", 0)
        return self

    async def __aexit__(self, *exc) -> None:
        self._server.close()
        for pipe in self._pipes:
            pipe.cancel()
        await asyncio.gather(*self._pipes, return_exceptions=True)
        await self._server.wait_closed()

    async def cut(self) -> None:
        """Break every open connection, as a network failure would."""
        for pipe in list(self._pipes):
            pipe.cancel()
        await asyncio.sleep(0)

    async def _connect(self, client_reader, client_writer) -> None:
        server_reader, server_writer = await asyncio.open_connection("127.0.0.1", self.target_port)
        pipes = [
            asyncio.create_task(self._pipe(client_reader, server_writer, "up")),
            asyncio.create_task(self._pipe(server_reader, client_writer, "down")),
        ]
        self._pipes.update(pipes)
        await asyncio.gather(*pipes, return_exceptions=True)
        self._pipes.difference_update(pipes)

    async def _pipe(self, reader, writer, direction: str) -> None:
        try:
            while data := await reader.read(65536):
                self.traffic.add(direction, data)
                writer.write(data)
                await writer.drain()
        except (ConnectionError, asyncio.CancelledError):
            pass
        finally:
            writer.transport.abort()  # no orderly close: the peer sees a broken connection
