"""An all-or-nothing import, streamed and buffered: progress can stream, the outcome comes at the commit.

Streaming a response does not force a commit per row. Both routes run the whole batch in one
SQLite transaction and commit at the end. What streaming changes is how the outcome reaches
the client: the streamed route has sent `200` and every `progress` event before the commit
runs, so a failed commit can only be the last event; the buffered route can still answer 409.

The commit can fail for real: rows name a category through a foreign key that SQLite checks
only at COMMIT (`DEFERRABLE INITIALLY DEFERRED`), as a database checks deferred constraints.

    POST /import/streamed  {"rows": [{"id": 1, "category": "books"}, ...]}  -> SSE: progress..., done | import_error
    POST /import/buffered  the same body                                    -> 200 {"saved": n} | 409 {"error": ...}
    GET  /saved                                                             -> {"rows": rows in the table}
"""

from __future__ import annotations

import asyncio
import sqlite3
import tempfile
from contextlib import closing
from pathlib import Path

from fastapi import FastAPI
from fastapi.responses import JSONResponse
from fastapi.sse import EventSourceResponse, ServerSentEvent
from pydantic import BaseModel

__all__ = ["create_import_app", "Row", "Batch", "CATEGORIES"]

CATEGORIES = ("books", "music", "films")


class Row(BaseModel):
    id: int
    category: str


class Batch(BaseModel):
    rows: list[Row]
    row_delay: float = 0.01  # seconds of work per row, so the progress is visible


def _connect(path: Path) -> sqlite3.Connection:
    db = sqlite3.connect(path, isolation_level=None)  # transactions are written out: BEGIN ... COMMIT
    db.execute("PRAGMA foreign_keys = ON")
    return db


def _create_tables(path: Path) -> None:
    with closing(_connect(path)) as db:
        db.execute("CREATE TABLE categories (name TEXT PRIMARY KEY)")
        db.executemany("INSERT INTO categories VALUES (?)", [(name,) for name in CATEGORIES])
        db.execute(
            "CREATE TABLE rows (id INTEGER PRIMARY KEY, category TEXT"
            " REFERENCES categories(name) DEFERRABLE INITIALLY DEFERRED)"
        )


async def _insert_all(db: sqlite3.Connection, batch: Batch):
    """Insert every row inside one open transaction, yielding after each: nothing is committed here."""
    for done, row in enumerate(batch.rows, 1):
        db.execute("INSERT INTO rows VALUES (?, ?)", (row.id, row.category))
        await asyncio.sleep(batch.row_delay)
        yield done


def _commit(db: sqlite3.Connection) -> str | None:
    """COMMIT, or roll back and say why: the reason goes to the log side, a code to the client."""
    try:
        db.execute("COMMIT")
        return None
    except sqlite3.IntegrityError as exc:
        db.execute("ROLLBACK")
        return str(exc)


def create_import_app() -> FastAPI:
    app = FastAPI(title="Streaming Lab: an all-or-nothing import")
    app.state.path = path = Path(tempfile.mkdtemp(prefix="streaming-lab-import-")) / "import.db"
    app.state.failures = []  # the internal reasons, for the server's log
    _create_tables(path)

    @app.post("/import/streamed", response_class=EventSourceResponse)
    async def streamed(batch: Batch):
        db = _connect(path)
        try:
            db.execute("BEGIN")
            async for done in _insert_all(db, batch):
                yield ServerSentEvent(event="progress", data={"processed": done, "of": len(batch.rows)})
            failure = _commit(db)
            if failure is None:
                yield ServerSentEvent(event="done", data={"committed": True, "saved": len(batch.rows)})
            else:
                app.state.failures.append(failure)
                yield ServerSentEvent(
                    event="import_error", data={"code": "commit_failed", "committed": False, "saved": 0}
                )
        finally:
            if db.in_transaction:  # the client left mid-batch: nothing of it stays
                db.execute("ROLLBACK")
            db.close()

    @app.post("/import/buffered")
    async def buffered(batch: Batch):
        db = _connect(path)
        try:
            db.execute("BEGIN")
            async for _ in _insert_all(db, batch):
                pass
            failure = _commit(db)
        finally:
            if db.in_transaction:
                db.execute("ROLLBACK")
            db.close()
        if failure is not None:
            app.state.failures.append(failure)
            return JSONResponse({"error": {"code": "commit_failed", "saved": 0}}, status_code=409)
        return {"saved": len(batch.rows)}

    @app.get("/saved")
    def saved() -> dict:
        with closing(_connect(path)) as db:
            return {"rows": db.execute("SELECT count(*) FROM rows").fetchone()[0]}

    return app
