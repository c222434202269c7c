"""helpers.evidence keeps every record when notebooks record at the same time (the tests run several at once)."""

import multiprocessing

from helpers import evidence

NAMES = sorted(evidence.KEYS)[:4]


def record_many(name: str, folder: str) -> None:
    import os

    os.environ["STREAMING_LAB_DATA"] = folder
    for i in range(30):
        evidence.record(name, i, source="test")


def test_records_made_at_once_by_several_processes_are_all_kept(tmp_path, monkeypatch):
    spawn = multiprocessing.get_context("spawn")
    writers = [spawn.Process(target=record_many, args=(name, str(tmp_path))) for name in NAMES]
    for writer in writers:
        writer.start()
    for writer in writers:
        writer.join(60)
        assert writer.exitcode == 0
    monkeypatch.setenv("STREAMING_LAB_DATA", str(tmp_path))
    assert {name: record["value"] for name, record in evidence.load().items()} == {name: 29 for name in NAMES}
