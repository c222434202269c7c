"""An all-or-nothing import: progress streams, the commit comes last, and a failed commit leaves nothing."""

import json

import httpx
import pytest
from httpx_sse import aconnect_sse

from helpers.batch_import import create_import_app
from helpers.kernel_server import serve

GOOD = {"rows": [{"id": i, "category": "books"} for i in range(1, 5)], "row_delay": 0}
BAD = {
    "rows": [{"id": i, "category": "music"} for i in range(5, 8)]
    + [{"id": 8, "category": "no such category"}],
    "row_delay": 0,
}


@pytest.fixture(scope="module")
def importer():
    with serve(create_import_app(), name="test-import") as handle:
        yield handle


def saved(server) -> int:
    return httpx.get(f"{server.url}/saved").json()["rows"]


async def streamed(server, batch):
    async with httpx.AsyncClient() as client:
        async with aconnect_sse(client, "POST", f"{server.url}/import/streamed", json=batch) as source:
            return source.response.status_code, [
                (sse.event, json.loads(sse.data)) async for sse in source.aiter_sse()
            ]


def test_a_failed_commit_after_full_progress_saves_nothing_and_says_so_last(importer, run):
    before = saved(importer)
    status, events = run(streamed(importer, BAD))
    assert status == 200  # sent before the commit ran
    assert [e for e, _ in events] == ["progress"] * 4 + ["import_error"]
    assert events[3][1] == {"processed": 4, "of": 4}  # the client saw every row processed ...
    # ... and then the verdict
    assert events[-1][1] == {
        "code": "commit_failed",
        "committed": False,
        "saved": 0,
    }
    assert "FOREIGN KEY" not in json.dumps(events)  # the internal reason stays on the server
    assert saved(importer) == before


def test_a_good_batch_commits_once_at_the_end(importer, run):
    before = saved(importer)
    status, events = run(streamed(importer, GOOD))
    assert status == 200 and events[-1] == ("done", {"committed": True, "saved": 4})
    assert saved(importer) == before + 4


def test_the_buffered_import_answers_the_failure_in_its_status(importer):
    before = saved(importer)
    response = httpx.post(f"{importer.url}/import/buffered", json=BAD)
    assert response.status_code == 409 and response.json() == {"error": {"code": "commit_failed", "saved": 0}}
    assert saved(importer) == before
