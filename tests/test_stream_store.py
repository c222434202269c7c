"""The three stream stores behind one interface: the same tests run against each."""

import asyncio

import pytest

from helpers.stream_store import (
    Gap,
    MemoryStore,
    RedisStore,
    SQLiteStore,
    StreamStatus,
    UnknownStream,
    open_store,
)


@pytest.fixture(params=["memory", "sqlite", "redis"])
def make_store(request, tmp_path):
    """A factory: `make_store(retain=..., ttl=...)` gives a fresh store of the parametrized backend."""
    counter = iter(range(1000))

    def make(**options):
        if request.param == "memory":
            return MemoryStore(**options)
        if request.param == "sqlite":
            return SQLiteStore(tmp_path / "streams.db", poll_interval=0.01, **options)
        url = request.getfixturevalue("redis_url")
        return RedisStore(url, prefix=f"test:{request.node.name}:{next(counter)}:", **options)

    return make


def test_events_are_numbered_replayed_and_end_with_done(make_store):
    async def scenario():
        store = make_store()
        await store.create("s1")
        assert await store.status("s1") == StreamStatus(0, False)
        for i in range(3):
            assert await store.append("s1", "token", {"text": f"t{i}"}) == i + 1
        await store.append("s1", "done", {"text": "t0t1t2", "中文": "保留"})
        replay = [e async for e in store.follow("s1", after=1)]
        assert [(e.seq, e.event) for e in replay] == [(2, "token"), (3, "token"), (4, "done")]
        assert replay[-1].data == {"text": "t0t1t2", "中文": "保留"}
        assert await store.status("s1") == StreamStatus(4, True)
        await store.aclose()

    asyncio.run(scenario())


def test_a_follower_gets_live_events_as_they_are_appended(make_store):
    async def scenario():
        store = make_store()
        await store.create("live")
        seen = []

        async def follower():
            async for stored in store.follow("live", wait=0.5):
                seen.append(stored.seq)

        task = asyncio.create_task(follower())
        for i in range(5):
            await asyncio.sleep(0.02)
            await store.append("live", "token", {"i": i})
        await store.append("live", "done", {})
        await asyncio.wait_for(task, 5)
        await store.aclose()
        return seen

    assert asyncio.run(scenario()) == [1, 2, 3, 4, 5, 6]


def test_a_follower_that_falls_behind_retention_gets_a_gap_not_a_silent_skip(make_store):
    async def scenario():
        store = make_store(retain=3)
        await store.create("slow")
        await store.append("slow", "token", {"i": 0})
        follower = store.follow("slow", wait=0.2)
        first = await anext(follower)  # reads one event, then is slow while eight more arrive
        for i in range(1, 9):
            await store.append("slow", "token", {"i": i})
        await store.append("slow", "done", {})
        rest = [item async for item in follower]
        await store.aclose()
        return first, rest

    first, rest = asyncio.run(scenario())
    assert first.seq == 1
    assert rest[0] == Gap(2, 7)  # 8, 9 and done (10) are the three retained
    assert [e.seq for e in rest[1:]] == [8, 9, 10]


def test_unknown_and_expired_streams_are_unknown(make_store):
    async def scenario():
        store = make_store(ttl=1)
        assert await store.status("never") is None
        with pytest.raises(UnknownStream):
            await store.read("never", 0, wait=0)
        with pytest.raises(UnknownStream):
            await store.append("never", "token", {})
        await store.create("brief")
        await store.append("brief", "token", {})
        await asyncio.sleep(2.1)  # Redis expires keys with one-second resolution
        status = await store.status("brief")
        await store.aclose()
        return status

    assert asyncio.run(scenario()) is None


def test_a_stop_request_reaches_whoever_waits_for_it(make_store):
    async def scenario():
        store = make_store()
        await store.create("s")
        waiter = asyncio.create_task(store.wait_stop("s"))
        await asyncio.sleep(0.1)
        assert not waiter.done() and not await store.stop_requested("s")
        await store.request_stop("s")
        await asyncio.wait_for(waiter, 5)
        assert await store.stop_requested("s")
        await store.aclose()

    asyncio.run(scenario())


def test_two_sqlite_stores_on_one_file_see_each_others_events(tmp_path):
    """Two stores on one file stand for two worker processes: what one writes, the other reads."""

    async def scenario():
        writer, reader = SQLiteStore(tmp_path / "s.db"), SQLiteStore(tmp_path / "s.db")
        await writer.create("shared")
        await writer.append("shared", "token", {"text": "hello"})
        await writer.append("shared", "done", {"text": "hello"})
        return [e.data async for e in reader.follow("shared")]

    assert asyncio.run(scenario()) == [{"text": "hello"}, {"text": "hello"}]


def test_store_urls():
    assert isinstance(open_store(None), MemoryStore)
    assert isinstance(open_store("memory"), MemoryStore)
    sqlite = open_store("sqlite:///tmp/streaming-lab-test/s.db?retain=5&poll_interval=0.2")
    assert isinstance(sqlite, SQLiteStore) and str(sqlite.path) == "/tmp/streaming-lab-test/s.db"
    assert sqlite.retain == 5 and sqlite.poll_interval == 0.2
    redis = open_store("redis://127.0.0.1:6390/2?ttl=30")
    assert isinstance(redis, RedisStore) and redis.url == "redis://127.0.0.1:6390/2" and redis.ttl == 30
    for bad in ["postgres://x", "sqlite://", "memory?size=3"]:
        with pytest.raises(ValueError):
            open_store(bad)
