import asyncio
from collections import deque

import pytest

from helpers.replay import ResumeGap, Stream, StreamRegistry, parse_event_id


def test_parse_event_id():
    assert parse_event_id("ab12.7") == ("ab12", 7)
    assert parse_event_id("7") is None
    assert parse_event_id("ab.") is None
    assert parse_event_id("a.b.3") == ("a.b", 3)


def test_follow_replays_from_any_point_then_goes_live():
    async def scenario():
        stream = Stream(id="s", buffer=deque(maxlen=10))
        for i in range(3):
            stream.emit("token", i)

        async def late():
            await asyncio.sleep(0.01)
            stream.emit("token", 3)
            stream.finish()

        asyncio.get_running_loop().create_task(late())
        return [seq async for seq, _, _ in stream.follow(after=1)]

    assert asyncio.run(scenario()) == [2, 3, 4]


def test_a_resume_point_older_than_the_buffer_is_a_gap():
    async def scenario():
        stream = Stream(id="s", buffer=deque(maxlen=2))
        for i in range(5):
            stream.emit("token", i)
        return [seq async for seq, _, _ in stream.follow(after=1)]

    with pytest.raises(ResumeGap):
        asyncio.run(scenario())


def test_the_producer_is_cancelled_after_the_grace_unless_resumed():
    async def scenario(resume: bool):
        registry = StreamRegistry(grace=0.05)

        async def produce(stream):
            await asyncio.sleep(10)

        stream = registry.start(produce)
        registry.attach(stream)
        registry.detach(stream)
        if resume:
            registry.attach(stream)
        await asyncio.sleep(0.15)
        alive = registry.active() == [stream]
        stream.producer.cancel()
        return alive

    assert asyncio.run(scenario(resume=False)) is False
    assert asyncio.run(scenario(resume=True)) is True
