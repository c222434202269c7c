"""helpers.measure.time_request: status, body, first byte and total, and one arrival per chunk read."""

import asyncio

from fastapi import FastAPI
from fastapi.responses import StreamingResponse

from helpers.kernel_server import serve
from helpers.measure import time_request

PARTS = [b"first ", b"second ", b"third"]


def paced_app(delay: float) -> FastAPI:
    app = FastAPI()

    @app.get("/")
    async def paced():
        async def body():
            for part in PARTS:
                yield part
                await asyncio.sleep(delay)

        return StreamingResponse(body(), media_type="text/plain")

    return app


def test_the_body_its_chunks_and_the_first_byte_before_the_end():
    with serve(paced_app(0.3), name="test-measure") as server:
        timing = asyncio.run(time_request(server.url, label="paced"))
    assert timing.status == 200 and timing.body == b"".join(PARTS) and timing.nbytes == len(timing.body)
    assert sum(size for _, size in timing.arrivals) == timing.nbytes
    assert len(timing.arrivals) == len(PARTS)  # 0.3 s apart: each part is read on its own
    # the first byte comes before the two pauses that follow it (same run, so no wall-clock bound)
    assert timing.ttfb == timing.arrivals[0][0] < timing.total and timing.total >= 0.6
    assert timing.summary().startswith("paced: first byte ") and "3 chunks, 18 bytes" in timing.summary()
