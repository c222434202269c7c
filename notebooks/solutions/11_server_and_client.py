import asyncio

import httpx
from fastapi import FastAPI
from fastapi.responses import StreamingResponse


def frame(event, text):
    """One event: a `data:` line per line of text (so line breaks survive), then the blank line."""
    return f"event: {event}\n" + "".join(f"data: {line}\n" for line in text.split("\n")) + "\n"


def make_app(tokens, delay):
    app = FastAPI()

    @app.get("/stream")
    async def stream():
        async def events():
            for token in tokens:
                await asyncio.sleep(delay)
                yield frame("token", token)
            yield frame("done", "{}")  # with a data line, or a browser never dispatches it

        return StreamingResponse(events(), media_type="text/event-stream", headers={"Cache-Control": "no-cache"})

    return app


async def read_tokens(url):
    """The token events' texts, read as a browser reads them, until `done`."""
    tokens, event, data = [], "message", []
    async with httpx.AsyncClient() as client:
        async with client.stream("GET", url, headers={"Accept": "text/event-stream"}) as response:
            async for line in response.aiter_lines():  # decodes UTF-8 across chunks; splits on \r\n, \r and \n
                if line == "":  # a blank line dispatches, if there is data
                    if data and event == "done":
                        return tokens  # the end of the answer, whether or not the connection closes
                    if data and event == "token":
                        tokens.append("\n".join(data))
                    event, data = "message", []
                elif not line.startswith(":"):  # comments are ignored
                    field, _, value = line.partition(":")
                    value = value.removeprefix(" ")
                    if field == "event":
                        event = value
                    elif field == "data":
                        data.append(value)
    return tokens
