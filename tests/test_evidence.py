"""helpers.evidence keeps every record when notebooks record at the same time (the tests run several at once)."""

import json
import multiprocessing

import pytest

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


def test_a_record_is_read_back_with_its_source_and_machine(tmp_path, monkeypatch):
    monkeypatch.setenv("STREAMING_LAB_DATA", str(tmp_path))
    name = NAMES[0]
    evidence.record(name, {"streamed": 0.31, "buffered": 1.2}, source="03")
    saved = evidence.load()[name]
    assert saved["value"] == {"streamed": 0.31, "buffered": 1.2} and saved["source"] == "03"
    assert "cores" in saved["machine"] and evidence.data_file().parent == tmp_path


def test_an_unknown_name_is_refused_and_nothing_is_written(tmp_path, monkeypatch):
    monkeypatch.setenv("STREAMING_LAB_DATA", str(tmp_path))
    with pytest.raises(KeyError, match=r"helpers\.evidence\.KEYS"):
        evidence.record("server.frist_byte", 1, source="03")  # a typo cannot create a second name
    assert not evidence.data_file().exists() and evidence.load() == {}


def test_names_no_longer_in_keys_and_a_broken_file_are_left_out(tmp_path, monkeypatch):
    monkeypatch.setenv("STREAMING_LAB_DATA", str(tmp_path))
    evidence.data_file().write_text(json.dumps({"nb03.ttfb": {"value": 1}, NAMES[0]: {"value": 2}}))
    assert evidence.load() == {NAMES[0]: {"value": 2}}
    evidence.data_file().write_text("{not json")
    assert evidence.load() == {}
