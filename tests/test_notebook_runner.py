"""tests/notebook_runner.py reports what nbval reports: the same failing cells, on the same notebook."""

import asyncio
import re
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_notebook, new_output

from .notebook_runner import nbval_failures, run_notebook

pytestmark = pytest.mark.notebooks
SANITIZE = Path(__file__).parent / "sanitize.cfg"


def stored(source, *outputs, tags=()):
    cell = new_code_cell(source, outputs=list(outputs), execution_count=1)
    cell.metadata["tags"] = list(tags)
    return cell


def stdout(text):
    return new_output("stream", name="stdout", text=text)


def error(ename, evalue):
    return new_output("error", ename=ename, evalue=evalue, traceback=[])


@pytest.fixture(scope="module")
def notebook(tmp_path_factory):
    path = tmp_path_factory.mktemp("runner") / "sample.ipynb"
    nb = new_notebook(
        cells=[
            stored('print("took 1.5 s")', stdout("took 2.0 s\n")),  # masked by sanitize.cfg: passes
            stored('print("hello")', stdout("hullo\n")),  # differs: fails
            stored(
                "1 / 0", error("ZeroDivisionError", "division by zero"), tags=["raises-exception"]
            ),  # expected: passes
            stored('raise ValueError("boom")', stdout("")),  # not expected to fail: fails
            stored(
                '# NBVAL_RAISES_EXCEPTION\nraise KeyError("x")', error("KeyError", "'x'")
            ),  # nbval's marker: passes
            # nbval knows the bare marker only: with text after it and no tag, the cell fails
            stored('# NBVAL_RAISES_EXCEPTION: on purpose\nraise KeyError("x")', error("KeyError", "'x'")),
            stored('print("a"); print("b")', stdout("a\n"), stdout("b\n")),  # streams coalesced: passes
            stored(
                "import sys; print('to stderr', file=sys.stderr)", stdout("")
            ),  # stdout stored, stderr seen: fails
        ]
    )
    nb.metadata.kernelspec = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nbformat.write(nb, path)
    return path


def failing_cells_by_nbval(path: Path) -> set[int]:
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-p",
            "no:cacheprovider",
            "-q",
            "-rf",
            "--nbval",
            "--nbval-current-env",
            "--nbval-sanitize-with",
            str(SANITIZE),
            "--rootdir",
            str(path.parent),
            str(path),
        ],
        capture_output=True,
        text=True,
        cwd=path.parent,
        timeout=300,
    )
    return {int(n) for n in re.findall(r"^FAILED \S*::Cell (\d+)", done.stdout, re.M)}


def test_the_runner_fails_the_cells_that_nbval_fails(notebook):
    run = asyncio.run(run_notebook(notebook))
    assert not run.failure
    failures = nbval_failures(run, SANITIZE)
    ours = {int(re.search(r"nbval's Cell (\d+)", failure).group(1)) for failure in failures}
    assert ours == {1, 3, 5, 7}, failures
    assert ours == failing_cells_by_nbval(notebook)
    assert "Cell outputs differ" in failures[0] and "hullo" in failures[0]
    assert "Cell execution caused an exception" in failures[1] and "ValueError" in failures[1]
