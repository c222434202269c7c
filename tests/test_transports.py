"""The SSE and WebSocket routes of helpers.transports, and the byte-counting proxy."""

import asyncio
import json
import time

import httpx
import pytest
import websockets
from httpx_sse import aconnect_sse

from helpers.counting_proxy import CountingProxy
from helpers.embedded_model import reply_for
from helpers.kernel_server import serve
from helpers.transports import create_transport_app


@pytest.fixture(scope="module")
def server(model):
    with serve(create_transport_app(), name="test-transports") as handle:
        yield handle


async def sse_tokens(port, stop_after=None, url=None):
    text, done = "", None
    async with httpx.AsyncClient(timeout=30) as client:
        async with aconnect_sse(
            client, "GET", f"http://127.0.0.1:{port}/sse", params={"prompt": "What is SSE?"}
        ) as source:
            async for sse in source.aiter_sse():
                data = json.loads(sse.data)
                if sse.event == "start":
                    stream_id = data["stream_id"]
                elif sse.event == "token":
                    text += data["text"]
                    if stop_after and text.count(" ") + 1 == stop_after:
                        await client.post(f"http://127.0.0.1:{port}/sse/{stream_id}/stop")
                elif sse.event == "done":
                    done = data
    return text, done


async def ws_tokens(port, stop_after=None, compression="deflate"):
    text, count = "", 0
    async with websockets.connect(f"ws://127.0.0.1:{port}/ws", compression=compression) as socket:
        await socket.send(json.dumps({"prompt": "What is SSE?"}))
        async for raw in socket:
            message = json.loads(raw)
            if message["type"] == "token":
                text += message["text"]
                count += 1
                if count == stop_after:
                    await socket.send(json.dumps({"action": "stop"}))
            else:
                return text, message


def test_both_transports_carry_the_same_answer(server):
    full = "".join(reply_for("What is SSE?"))
    assert asyncio.run(sse_tokens(server.port))[0] == full
    assert asyncio.run(ws_tokens(server.port))[0] == full


def test_a_stop_mid_stream_stops_the_model_on_both(server, model):
    full_length = len(reply_for("What is SSE?"))
    _, done = asyncio.run(ws_tokens(server.port, stop_after=3))
    assert done["stopped"] and 3 <= done["tokens"] < full_length  # tokens already in flight still arrive
    deadline = time.monotonic() + 2
    while model.last.status == "running" and time.monotonic() < deadline:
        time.sleep(0.01)
    assert model.last.status == "cancelled"
    _text, done = asyncio.run(sse_tokens(server.port, stop_after=3))
    assert done["stopped"] and done["tokens"] < full_length


def test_the_proxy_counts_both_directions_and_shows_the_upgrade(server):
    async def scenario():
        async with CountingProxy(server.port) as proxy:
            await ws_tokens(proxy.port, compression=None)
            await asyncio.sleep(0.05)
        return proxy.traffic

    traffic = asyncio.run(scenario())
    assert traffic.first_up.startswith(b"GET /ws HTTP/1.1")
    assert traffic.first_down.startswith(b"HTTP/1.1 101 Switching Protocols")
    payload = len("".join(reply_for("What is SSE?")).encode())
    assert traffic.down > payload  # the text plus JSON and frame headers
    assert traffic.up > len(b"GET /ws HTTP/1.1")


def test_cut_breaks_an_open_connection(server):
    async def scenario():
        async with CountingProxy(server.port) as proxy:
            async with websockets.connect(f"ws://127.0.0.1:{proxy.port}/ws") as socket:
                await socket.send(json.dumps({"prompt": "What is SSE?"}))
                await socket.recv()
                await proxy.cut()
                with pytest.raises(websockets.ConnectionClosedError):
                    async for _ in socket:
                        pass

    asyncio.run(scenario())
