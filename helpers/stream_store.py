"""Where a stream's events live, so that any worker can replay and follow them: three backends, one interface.

A relay writes each event of a stream to a store and serves every connection from the store.
The connection that created the stream and the one that resumes it after a drop need not be
the same, nor run in the same process, nor on the same machine, as long as they share the store:

    memory                  one process (the default). Fast; gone when the process ends,
                            and invisible to a second worker or replica.
    sqlite:///path/to/file  several processes on one machine. The standard library's sqlite3
                            in WAL mode; followers poll every `poll_interval` (0.05 s by
                            default), which is the latency this backend adds.
    redis://host:port/db    several machines. Redis Streams through the `redis` package's
                            asyncio client: XADD with MAXLEN (retention) and EXPIRE (expiry),
                            XREAD BLOCK to follow without polling.

Query parameters tune any backend: `?retain=10000&ttl=600&poll_interval=0.05`.

Every stream keeps its newest `retain` events and expires `ttl` seconds after its last event.
Events are numbered 1, 2, 3... per stream. A follower asks for the events after a number; if
some of them are no longer retained, `follow` yields a `Gap` first, never a silent skip.
"""

from __future__ import annotations

import asyncio
import json
import sqlite3
import threading
import time
import weakref
from abc import ABC, abstractmethod
from collections import deque
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import parse_qsl, urlsplit

__all__ = [
    "StoredEvent",
    "StreamStatus",
    "Gap",
    "UnknownStream",
    "StreamStore",
    "MemoryStore",
    "SQLiteStore",
    "RedisStore",
    "open_store",
    "DEFAULT_RETAIN",
    "DEFAULT_TTL",
]

DEFAULT_RETAIN = 10_000  # events kept per stream: a long answer, with room to spare
DEFAULT_TTL = 600.0  # seconds a stream stays readable after its last event
FINAL_EVENT = "done"  # every stream ends with it; a follower stops there


@dataclass(frozen=True)
class StoredEvent:
    seq: int
    event: str
    data: dict


@dataclass(frozen=True)
class StreamStatus:
    last_seq: int  # the newest event's number, 0 before the first
    finished: bool  # the final event is stored


@dataclass(frozen=True)
class Gap:
    """Events `first`..`last` were dropped by retention before this follower read them."""

    first: int
    last: int


class UnknownStream(LookupError):
    """No such stream: never created, or expired."""


class StreamStore(ABC):
    """The interface every backend implements; `follow` is built on `read`."""

    url: str = ""
    poll_interval: float = 0.05  # how often a polling backend looks for new events and stop requests

    def __init__(self, *, retain: int = DEFAULT_RETAIN, ttl: float = DEFAULT_TTL) -> None:
        if retain < 1 or ttl <= 0:
            raise ValueError("retain must be at least 1 event and ttl positive")
        self.retain, self.ttl = int(retain), float(ttl)

    @abstractmethod
    async def create(self, stream_id: str) -> None:
        """Make an empty stream (its expiry starts now)."""

    @abstractmethod
    async def append(self, stream_id: str, event: str, data: dict) -> int:
        """Store one event and return its number."""

    @abstractmethod
    async def read(self, stream_id: str, after: int, *, wait: float) -> list[StoredEvent]:
        """The retained events numbered above `after`, oldest first; waits up to `wait` s for one.

        Raises UnknownStream if the stream does not exist (any more).
        """

    @abstractmethod
    async def status(self, stream_id: str) -> StreamStatus | None:
        """None for an unknown or expired stream."""

    @abstractmethod
    async def request_stop(self, stream_id: str) -> None:
        """Ask the stream's producer, wherever it runs, to stop."""

    @abstractmethod
    async def stop_requested(self, stream_id: str) -> bool: ...

    async def wait_stop(self, stream_id: str) -> None:
        """Return once a stop is requested. Backends without notifications poll."""
        while not await self.stop_requested(stream_id):
            await asyncio.sleep(self.poll_interval)

    async def aclose(self) -> None:  # noqa: B027 (a backend with nothing to release keeps this no-op)
        """Release connections held for the running event loop."""

    async def follow(
        self, stream_id: str, after: int = 0, *, wait: float = 5.0
    ) -> AsyncIterator[StoredEvent | Gap]:
        """Every event after `after`, replayed then live, until the final `done` event.

        The gap check runs on every read, not only when a follower attaches: a follower that
        falls behind retention while it reads is told so too.
        """
        while True:
            events = await self.read(stream_id, after, wait=wait)
            if events and events[0].seq > after + 1:
                yield Gap(after + 1, events[0].seq - 1)
            for stored in events:
                after = stored.seq
                yield stored
                if stored.event == FINAL_EVENT:
                    return

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.url!r}, retain={self.retain}, ttl={self.ttl:g})"


def _encode(data: dict) -> str:
    return json.dumps(data, ensure_ascii=False, separators=(",", ":"))


# ---------------------------------------------------------------- memory


@dataclass
class _MemoryStream:
    events: deque
    expires: float
    last_seq: int = 0
    finished: bool = False
    stop: bool = False
    waiters: list = field(default_factory=list)  # (loop, future) of followers and stop watchers


class MemoryStore(StreamStore):
    """A dict in this process. Safe to share between servers on different threads of one process."""

    url = "memory"

    def __init__(
        self, *, retain: int = DEFAULT_RETAIN, ttl: float = DEFAULT_TTL, poll_interval: float | None = None
    ) -> None:
        super().__init__(retain=retain, ttl=ttl)
        self._streams: dict[str, _MemoryStream] = {}
        self._lock = threading.Lock()  # kernel servers run in threads, each with its own event loop

    def _get(self, stream_id: str) -> _MemoryStream | None:
        stream = self._streams.get(stream_id)
        if stream is not None and stream.expires < time.monotonic():
            self._streams.pop(stream_id, None)
            return None
        return stream

    def _wake(self, stream: _MemoryStream) -> None:
        waiters, stream.waiters = stream.waiters, []
        for loop, future in waiters:
            if not loop.is_closed():
                loop.call_soon_threadsafe(lambda f=future: f.done() or f.set_result(None))

    async def _changed(self, stream_id: str, wait: float, ready) -> None:
        """Wait up to `wait` s for the stream to change, unless `ready(stream)` holds already."""
        loop = asyncio.get_running_loop()
        future = loop.create_future()
        with self._lock:
            stream = self._get(stream_id)
            if stream is None:
                raise UnknownStream(stream_id)
            if ready(stream):
                return
            stream.waiters.append((loop, future))
        try:
            await asyncio.wait_for(future, wait)
        except TimeoutError:
            pass

    async def create(self, stream_id: str) -> None:
        with self._lock:
            now = time.monotonic()
            for name in [n for n, s in self._streams.items() if s.expires < now]:
                del self._streams[name]
            self._streams[stream_id] = _MemoryStream(events=deque(maxlen=self.retain), expires=now + self.ttl)

    async def append(self, stream_id: str, event: str, data: dict) -> int:
        with self._lock:
            stream = self._get(stream_id)
            if stream is None:
                raise UnknownStream(stream_id)
            stream.last_seq += 1
            stream.events.append(StoredEvent(stream.last_seq, event, json.loads(_encode(data))))
            stream.finished = stream.finished or event == FINAL_EVENT
            stream.expires = time.monotonic() + self.ttl
            self._wake(stream)
            return stream.last_seq

    async def read(self, stream_id: str, after: int, *, wait: float) -> list[StoredEvent]:
        await self._changed(stream_id, wait, lambda s: s.last_seq > after)
        with self._lock:
            stream = self._get(stream_id)
            if stream is None:
                raise UnknownStream(stream_id)
            return [e for e in stream.events if e.seq > after]

    async def status(self, stream_id: str) -> StreamStatus | None:
        with self._lock:
            stream = self._get(stream_id)
            return None if stream is None else StreamStatus(stream.last_seq, stream.finished)

    async def request_stop(self, stream_id: str) -> None:
        with self._lock:
            stream = self._get(stream_id)
            if stream is not None:
                stream.stop = True
                self._wake(stream)

    async def stop_requested(self, stream_id: str) -> bool:
        with self._lock:
            stream = self._get(stream_id)
            return bool(stream and stream.stop)

    async def wait_stop(self, stream_id: str) -> None:
        while True:
            try:
                await self._changed(stream_id, 3600, lambda s: s.stop)
            except UnknownStream:
                # an expired stream is never stopped: wait for cancellation
                return await asyncio.Event().wait()
            if await self.stop_requested(stream_id):
                return


# ---------------------------------------------------------------- SQLite

_SCHEMA = """
CREATE TABLE IF NOT EXISTS streams (
    id TEXT PRIMARY KEY, last_seq INTEGER NOT NULL DEFAULT 0, finished INTEGER NOT NULL DEFAULT 0,
    stop INTEGER NOT NULL DEFAULT 0, expires REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS events (
    stream TEXT NOT NULL, seq INTEGER NOT NULL, event TEXT NOT NULL, data TEXT NOT NULL,
    PRIMARY KEY (stream, seq)
) WITHOUT ROWID;
"""


class SQLiteStore(StreamStore):
    """One SQLite file shared by every process on this machine (WAL: readers never block the writer)."""

    def __init__(
        self,
        path: str | Path,
        *,
        retain: int = DEFAULT_RETAIN,
        ttl: float = DEFAULT_TTL,
        poll_interval: float = 0.05,
    ) -> None:
        super().__init__(retain=retain, ttl=ttl)
        self.path = Path(path)
        self.url = f"sqlite://{self.path}" if self.path.is_absolute() else f"sqlite:///{self.path}"
        self.poll_interval = float(poll_interval)
        self._conn: sqlite3.Connection | None = None
        self._lock = threading.Lock()  # one connection, used from worker threads one at a time

    def _connection(self) -> sqlite3.Connection:
        if self._conn is None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            conn = sqlite3.connect(self.path, timeout=10, isolation_level=None, check_same_thread=False)
            conn.execute("PRAGMA journal_mode=WAL")  # several processes: one writer, many readers
            conn.execute("PRAGMA synchronous=NORMAL")  # WAL + NORMAL: no fsync per event
            conn.executescript(_SCHEMA)
            self._conn = conn
        return self._conn

    async def _run(self, work, *args):
        """Run `work(connection, *args)` in a worker thread: a busy database must not block the event loop."""

        def locked():
            with self._lock:
                return work(self._connection(), *args)

        return await asyncio.to_thread(locked)

    @staticmethod
    def _transaction(conn: sqlite3.Connection, work):
        conn.execute("BEGIN IMMEDIATE")
        try:
            result = work()
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        conn.execute("COMMIT")
        return result

    async def create(self, stream_id: str) -> None:
        def work(conn):
            now = time.time()

            def create():
                expired = [row[0] for row in conn.execute("SELECT id FROM streams WHERE expires < ?", (now,))]
                conn.executemany("DELETE FROM events WHERE stream = ?", [(s,) for s in expired])
                conn.executemany("DELETE FROM streams WHERE id = ?", [(s,) for s in expired])
                conn.execute(
                    "INSERT OR REPLACE INTO streams (id, expires) VALUES (?, ?)", (stream_id, now + self.ttl)
                )

            self._transaction(conn, create)

        await self._run(work)

    async def append(self, stream_id: str, event: str, data: dict) -> int:
        payload = _encode(data)

        def work(conn):
            def append():
                row = conn.execute(
                    "SELECT last_seq FROM streams WHERE id = ? AND expires >= ?", (stream_id, time.time())
                ).fetchone()
                if row is None:
                    raise UnknownStream(stream_id)
                seq = row[0] + 1
                conn.execute(
                    "INSERT INTO events (stream, seq, event, data) VALUES (?, ?, ?, ?)",
                    (stream_id, seq, event, payload),
                )
                conn.execute(
                    "DELETE FROM events WHERE stream = ? AND seq <= ?", (stream_id, seq - self.retain)
                )
                conn.execute(
                    "UPDATE streams SET last_seq = ?, finished = finished OR ?, expires = ? WHERE id = ?",
                    (seq, event == FINAL_EVENT, time.time() + self.ttl, stream_id),
                )
                return seq

            return self._transaction(conn, append)

        return await self._run(work)

    async def read(self, stream_id: str, after: int, *, wait: float) -> list[StoredEvent]:
        def work(conn):
            if (
                conn.execute(
                    "SELECT 1 FROM streams WHERE id = ? AND expires >= ?", (stream_id, time.time())
                ).fetchone()
                is None
            ):
                raise UnknownStream(stream_id)
            rows = conn.execute(
                "SELECT seq, event, data FROM events WHERE stream = ? AND seq > ? ORDER BY seq LIMIT 1000",
                (stream_id, after),
            ).fetchall()
            return [StoredEvent(seq, event, json.loads(data)) for seq, event, data in rows]

        deadline = time.monotonic() + wait
        while True:
            events = await self._run(work)
            if events or time.monotonic() >= deadline:
                return events
            await asyncio.sleep(self.poll_interval)  # the stated latency of this backend

    async def status(self, stream_id: str) -> StreamStatus | None:
        def work(conn):
            return conn.execute(
                "SELECT last_seq, finished FROM streams WHERE id = ? AND expires >= ?",
                (stream_id, time.time()),
            ).fetchone()

        row = await self._run(work)
        return None if row is None else StreamStatus(row[0], bool(row[1]))

    async def request_stop(self, stream_id: str) -> None:
        await self._run(lambda conn: conn.execute("UPDATE streams SET stop = 1 WHERE id = ?", (stream_id,)))

    async def stop_requested(self, stream_id: str) -> bool:
        row = await self._run(
            lambda conn: conn.execute("SELECT stop FROM streams WHERE id = ?", (stream_id,)).fetchone()
        )
        return bool(row and row[0])

    async def aclose(self) -> None:
        def close():
            with self._lock:
                if self._conn is not None:
                    self._conn.close()
                    self._conn = None

        await asyncio.to_thread(close)


# ---------------------------------------------------------------- Redis


class RedisStore(StreamStore):
    """Redis Streams: one Redis key per stream (`<prefix><id>`), plus a hash with its state (`...:meta`)."""

    def __init__(
        self,
        url: str,
        *,
        retain: int = DEFAULT_RETAIN,
        ttl: float = DEFAULT_TTL,
        prefix: str = "lab:stream:",
        poll_interval: float = 0.05,
    ) -> None:
        super().__init__(retain=retain, ttl=ttl)
        self.url, self.prefix, self.poll_interval = url, prefix, float(poll_interval)
        # An asyncio client belongs to the event loop that made it: one per loop (servers in threads).
        self._clients: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()

    def _client(self):
        import redis.asyncio

        loop = asyncio.get_running_loop()
        client = self._clients.get(loop)
        if client is None:
            client = self._clients[loop] = redis.asyncio.Redis.from_url(self.url, decode_responses=True)
        return client

    def _keys(self, stream_id: str) -> tuple[str, str]:
        return f"{self.prefix}{stream_id}", f"{self.prefix}{stream_id}:meta"

    async def create(self, stream_id: str) -> None:
        _, meta = self._keys(stream_id)
        async with self._client().pipeline(transaction=True) as pipe:
            await (
                pipe.delete(*self._keys(stream_id))
                .hset(meta, mapping={"last": 0, "finished": 0, "stop": 0})
                .expire(meta, int(self.ttl) or 1)
                .execute()
            )

    async def append(self, stream_id: str, event: str, data: dict) -> int:
        key, meta = self._keys(stream_id)
        client = self._client()
        if not await client.exists(meta):
            raise UnknownStream(stream_id)
        seq = await client.hincrby(meta, "last", 1)  # one producer per stream: the numbers stay in order
        ttl = int(self.ttl) or 1
        async with client.pipeline(transaction=True) as pipe:
            # Explicit ids 0-<seq>: XREAD's cursor is then the event's own number.
            pipe.xadd(
                key,
                {"event": event, "data": _encode(data)},
                id=f"0-{seq}",
                maxlen=self.retain,
                approximate=False,
            )
            if event == FINAL_EVENT:
                pipe.hset(meta, "finished", 1)
            await pipe.expire(key, ttl).expire(meta, ttl).execute()
        return seq

    async def read(self, stream_id: str, after: int, *, wait: float) -> list[StoredEvent]:
        key, meta = self._keys(stream_id)
        client = self._client()
        if not await client.exists(meta):
            raise UnknownStream(stream_id)
        reply = await client.xread({key: f"0-{after}"}, count=1000, block=max(1, int(wait * 1000)))
        entries = reply[0][1] if reply else []
        return [
            StoredEvent(int(entry_id.split("-")[1]), fields["event"], json.loads(fields["data"]))
            for entry_id, fields in entries
        ]

    async def status(self, stream_id: str) -> StreamStatus | None:
        state = await self._client().hgetall(self._keys(stream_id)[1])
        return StreamStatus(int(state["last"]), state["finished"] == "1") if state else None

    async def request_stop(self, stream_id: str) -> None:
        _, meta = self._keys(stream_id)
        client = self._client()
        if await client.exists(meta):
            await client.hset(meta, "stop", 1)

    async def stop_requested(self, stream_id: str) -> bool:
        return await self._client().hget(self._keys(stream_id)[1], "stop") == "1"

    async def aclose(self) -> None:
        client = self._clients.pop(asyncio.get_running_loop(), None)
        if client is not None:
            await client.aclose()


def open_store(url: str | StreamStore | None = None) -> StreamStore:
    """A store from a URL: `memory`, `sqlite:///path`, `redis://host:port/db` (with optional `?retain=&ttl=&poll_interval=`)."""
    if isinstance(url, StreamStore):
        return url
    url = (url or "memory").strip()
    parts = urlsplit(url)
    options = {}
    for name, value in parse_qsl(parts.query):
        if name not in ("retain", "ttl", "poll_interval"):
            raise ValueError(f"unknown store option {name!r} in {url!r}; use retain, ttl or poll_interval")
        options[name] = int(value) if name == "retain" else float(value)
    scheme = parts.scheme or parts.path
    if scheme == "memory":
        return MemoryStore(**options)
    if scheme == "sqlite":
        if not parts.path or parts.path == "/":
            raise ValueError(f"{url!r} names no file; write sqlite:///path/to/streams.db")
        return SQLiteStore(parts.path, **options)
    if scheme in ("redis", "rediss"):
        try:
            import redis  # noqa: F401
        except ImportError:
            raise ValueError("the redis store needs the redis package: pip install redis") from None
        return RedisStore(parts._replace(query="").geturl(), **options)
    raise ValueError(f"unknown stream store {url!r}; use memory, sqlite:///path or redis://host:port/db")
