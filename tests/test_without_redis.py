"""A learner's laptop without redis-server: one line says what is missing and how to install it, and the lesson goes on."""

import pytest

from helpers.redis_server import INSTALL_HINT, start_redis_or_explain

NO_PROGRAMS = "/nonexistent"  # a PATH on which no redis-server can be found


def test_a_missing_redis_server_is_one_line_with_the_install_command(monkeypatch, capsys):
    monkeypatch.setenv("PATH", NO_PROGRAMS)
    assert start_redis_or_explain("test-no-redis") is None
    printed = capsys.readouterr()
    assert printed.err == ""
    lines = printed.out.splitlines()
    assert len(lines) == 1 and "redis-server" in lines[0] and INSTALL_HINT in lines[0]


@pytest.mark.notebooks
@pytest.mark.parametrize(
    "path", ["06_errors_and_resume without redis-server"]
)  # tests/notebook_runner.py VARIANTS
def test_notebook_06_runs_to_the_end_without_redis_server(path, notebook_runs):
    run = notebook_runs[path]
    assert not run.failure, f"it did not run to the end: {run.failure}"
    cells = run.cells[: run.half]
    failed = []
    for cell in cells:
        if cell.cell_type != "code" or "raises-exception" in cell.metadata.get("tags", []):
            continue
        failed += [(cell.source[:60], o.ename, o.evalue) for o in cell.outputs if o.output_type == "error"]
        stderr = "".join(
            o.get("text", "") for o in cell.outputs if o.output_type == "stream" and o.name == "stderr"
        )
        assert "Traceback" not in stderr, stderr
    assert failed == []
    printed = "".join(
        o.get("text", "")
        for c in cells
        if c.cell_type == "code"
        for o in c.outputs
        if o.output_type == "stream"
    )
    redis_lines = [line for line in printed.splitlines() if line.startswith("redis |")]
    assert (
        redis_lines[0]
        == f"redis | redis-server is not installed here; install it with `{INSTALL_HINT}` (the lesson goes on without it)."
    )
    assert redis_lines[1].startswith("redis | skipped")
    assert "sqlite: B answered: 200" in printed  # the lesson went on with SQLite
