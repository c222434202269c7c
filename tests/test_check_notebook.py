"""The teacher's command, `python -m helpers.check_notebook` (docs/teaching.md): it runs a student's
notebook in a fresh kernel and reports each exercise as solved or not, with the check's hint.

The student's notebook here is made of notebook 01's own exercise and check cells, so the command is
tested on the course's real check, unsolved as shipped and then with the solution typed in."""

import subprocess
import sys

import nbformat

from helpers import course
from helpers.check_notebook import check_notebook

NOTEBOOK = course.by_number("01")


def student_notebook(tmp_path, exercise_source=None, broken=False):
    cells = nbformat.read(NOTEBOOK.path, as_version=4).cells
    exercise = next(i for i, c in enumerate(cells) if "exercise" in c.metadata.get("tags", []))
    nb = nbformat.v4.new_notebook()
    on_purpose = nbformat.v4.new_code_cell(
        "# NBVAL_RAISES_EXCEPTION: on purpose\nraise ValueError('meant to fail')"
    )
    on_purpose.metadata["tags"] = ["raises-exception"]
    nb.cells = [
        nbformat.v4.new_markdown_cell("# a student's copy"),
        on_purpose,
        cells[exercise],
        cells[exercise + 1],
    ]
    if broken:  # a student's typo above the exercise
        nb.cells.insert(2, nbformat.v4.new_code_cell("tokens = undefined_name"))
    if exercise_source is not None:
        nb.cells[-2].source = exercise_source
    path = tmp_path / "student.ipynb"
    nbformat.write(nb, path)
    return path


def test_an_unsolved_exercise_is_reported_with_the_checks_hint_and_exit_status_1(tmp_path):
    path = student_notebook(tmp_path, broken=True)
    done = subprocess.run(
        [sys.executable, "-m", "helpers.check_notebook", str(path)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 1, done.stdout + done.stderr
    lines = done.stdout.splitlines()
    assert lines[0] == f"{path}: 0 of 1 exercises solved"
    assert lines[1].startswith("  01_sentences: not solved: ") and "expected" in lines[1]
    assert lines[2] == "  failed unexpectedly: cell 2: NameError: name 'undefined_name' is not defined"
    assert len(lines) == 3  # the cell tagged raises-exception is not reported


def test_a_solved_exercise_is_reported_solved(tmp_path):
    solution = (course.NOTEBOOK_DIR / "solutions" / "01_sentences.py").read_text()
    report = check_notebook(student_notebook(tmp_path, solution))
    assert [e.line() for e in report.exercises] == ["01_sentences: solved"]
    assert report.unexpected == [] and report.exit_status == 0
