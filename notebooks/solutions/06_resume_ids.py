import json

from fastapi import FastAPI, Header, HTTPException
from fastapi.responses import StreamingResponse

from helpers.sse import encode


def make_app(store):
    app = FastAPI()

    @app.get("/streams/{stream_id}")
    async def follow(stream_id: str, last_event_id: str | None = Header(None)):
        status = await store.status(stream_id)
        if status is None:
            raise HTTPException(404, "No such stream.")
        after = 0
        if last_event_id:  # "<stream>.<n>": which stream, and which of its events
            owner, _, number = last_event_id.rpartition(".")
            if owner != stream_id or not number.isdigit() or int(number) > status.last_seq:
                raise HTTPException(400, "Last-Event-ID does not name an event of this stream.")
            after = int(number)
            if status.finished and after == status.last_seq:
                raise HTTPException(204)  # everything was delivered: EventSource stops reconnecting

        async def events():
            async for stored in store.follow(stream_id, after):  # replayed, then live, until done
                yield encode(json.dumps(stored.data, ensure_ascii=False), event=stored.event, id=f"{stream_id}.{stored.seq}")

        return StreamingResponse(events(), media_type="text/event-stream", headers={"Cache-Control": "no-cache"})

    return app
