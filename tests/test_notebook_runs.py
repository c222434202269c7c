"""Every notebook executed by the tests, and the checks of its runs.

Each notebook runs in one kernel, twice (tests/notebook_runner.py runs several at a time, in the
background, while the other tests run):
- first as committed: its outputs must match the stored ones under nbval's rules and
  tests/sanitize.cfg (what `make notebooks` checks with nbval itself), only cells tagged
  `raises-exception` may fail, and every exercise's check cell must fail with NotSolvedYet;
- then, in the same kernel, with each exercise's solution loaded: every check cell must pass.
Two notebooks also run without a program a learner may lack (the runner's VARIANTS): 06 without
redis-server and 08 without nginx.

Only tests that read the runs live here, so that pytest-xdist, which hands out whole modules
(`--dist loadscope`, in collection order: `--no-loadscope-reorder`), gives this module to a worker
last, when the runs are nearly done, instead of making a worker wait for them first.
"""

from pathlib import Path

import pytest

from helpers import course
from helpers.redis_server import INSTALL_HINT

from .notebook_runner import COURSE, nbval_failures

NUMBERED = [nb.path for nb in course.NOTEBOOKS]
EVERY_NOTEBOOK = COURSE  # what `make notebooks` (nbval) runs
SANITIZE = Path(__file__).parent / "sanitize.cfg"


def tags(cell):
    return cell.metadata.get("tags", [])


def errors(cell):
    return [o for o in cell.get("outputs", []) if o.output_type == "error"]


def completed(run):
    assert not run.failure, f"{run.path.name} did not run to the end: {run.failure}"
    return run


@pytest.mark.notebooks
@pytest.mark.parametrize("path", EVERY_NOTEBOOK, ids=lambda p: p.stem)
def test_outputs_match_the_committed_ones_under_nbval_rules(path, notebook_runs):
    failures = nbval_failures(completed(notebook_runs[path]), SANITIZE)
    assert not failures, (
        f"{len(failures)} cell(s) of {path.name} fail as nbval would report them:\n\n" + "\n\n".join(failures)
    )


@pytest.mark.notebooks
@pytest.mark.parametrize("path", NUMBERED, ids=lambda p: p.stem)
def test_runs_twice_in_one_kernel_and_every_check_fails_empty_and_passes_solved(path, notebook_runs):
    run = completed(notebook_runs[path])
    half = run.half
    for index, cell in enumerate(run.cells):
        if cell.cell_type != "code":
            continue
        where = f"{'second' if index >= half else 'first'} run, cell {index % half}: {cell.source[:60]!r}"
        if "check" in tags(cell):
            if index < half:
                assert [e.ename for e in errors(cell)] == ["NotSolvedYet"], where
            else:
                assert errors(cell) == [], f"{where}: {errors(cell)}"
        elif "raises-exception" not in tags(cell):
            assert errors(cell) == [], f"{where}: {[(e.ename, e.evalue) for e in errors(cell)]}"
        streams = "".join(
            o.get("text", "") for o in cell.outputs if o.output_type == "stream" and o.name == "stderr"
        )
        assert "Traceback" not in streams, f"{where}: a traceback leaked into the cell:\n{streams[:2000]}"


# --- without the programs a learner may lack -------------------------------------------------


@pytest.mark.notebooks
@pytest.mark.parametrize("path", ["08_production without nginx"])  # tests/notebook_runner.py VARIANTS
def test_notebook_08_runs_twice_without_nginx_and_every_proxy_cell_says_so_in_one_line(path, notebook_runs):
    """The run-twice test above, in a kernel that cannot find nginx."""
    run = notebook_runs[path]
    test_runs_twice_in_one_kernel_and_every_check_fails_empty_and_passes_solved(path, notebook_runs)

    first_pass = run.cells[: run.half]
    proxy_cells = [
        c
        for c in first_pass
        if c.cell_type == "code" and "NGINX_MISSING" in c.source and "print(NGINX_MISSING" in c.source
    ]
    assert len(proxy_cells) >= 6
    for cell in proxy_cells:
        printed = "".join(o.get("text", "") for o in cell.outputs if o.output_type == "stream")
        assert "nginx is not installed here" in printed and "apt-get install nginx" in printed, cell.source[
            :80
        ]


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
