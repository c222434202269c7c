"""The course's structure: the table of contents, navigation, and the parts every notebook has.

The notebooks' runs are checked in tests/test_notebook_runs.py.
"""

import re
from pathlib import Path

import nbformat
import pytest

from helpers import course

from .notebook_runner import COURSE

NOTEBOOKS = course.NOTEBOOK_DIR
NUMBERED = [nb.path for nb in course.NOTEBOOKS]
EVERY_NOTEBOOK = COURSE  # what `make notebooks` (nbval) runs
LINK = re.compile(r"\]\(([^)]+\.ipynb)\)")
SANITIZE = Path(__file__).parent / "sanitize.cfg"


def read(path):
    return nbformat.read(path, as_version=4)


def tags(cell):
    return cell.metadata.get("tags", [])


def test_every_notebook_is_in_the_table_of_contents_and_the_contents_page_links_it():
    on_disk = sorted(p.name for p in NOTEBOOKS.glob("[0-9][0-9]_*.ipynb") if not p.name.startswith("00_"))
    assert on_disk == sorted(p.name for p in NUMBERED), "add the notebook to helpers.course.NOTEBOOKS"
    assert [nb.number for nb in course.NOTEBOOKS] == sorted(nb.number for nb in course.NOTEBOOKS)
    contents = "".join(c.source for c in read(NOTEBOOKS / "00_contents.ipynb").cells)
    assert set(LINK.findall(contents)) >= {p.name for p in NUMBERED}


def test_navigation_cells_and_tables_are_generated_from_the_table_of_contents():
    stale = course.sync(check=True)
    assert not stale, f"out of date: {[str(p) for p in stale]}; run `python -m helpers.course`"


def test_the_next_links_lead_through_every_notebook_in_order():
    seen, current = [], NUMBERED[0]
    while current is not None and current.name not in seen:
        seen.append(current.name)
        nav = read(current).cells[0].source
        following = [link for link in LINK.findall(nav) if link[:2] > current.name[:2]]
        current = NOTEBOOKS / following[0] if following else None
    assert seen == [p.name for p in NUMBERED]


@pytest.mark.parametrize("path", NUMBERED, ids=lambda p: p.stem)
def test_notebook_has_the_parts_a_class_needs(path):
    nb = read(path)
    assert nb.metadata.kernelspec.name == "python3"
    first, last = nb.cells[0], nb.cells[-1]
    for nav in (first, last):
        assert "nav" in tags(nav) and "00_contents.ipynb" in nav.source
        for link in LINK.findall(nav.source):
            assert (NOTEBOOKS / link).exists(), link
    assert "**Learning goals.**" in nb.cells[1].source
    assert any(c.cell_type == "markdown" and re.search(r"^## Summary", c.source, re.M) for c in nb.cells)
    exercises = [i for i, c in enumerate(nb.cells) if "exercise" in tags(c)]
    assert exercises, "no exercise"
    for i in exercises:
        check = nb.cells[i + 1]
        assert {"check", "raises-exception"} <= set(tags(check))
        assert (NOTEBOOKS / "solutions" / f"{nb.cells[i].metadata['exercise']}.py").exists()
        assert any(
            f"solutions/{nb.cells[i].metadata['exercise']}.py" in c.source for c in nb.cells[i - 2 : i]
        )
    ignored = [c for c in nb.cells if c.cell_type == "code" and "NBVAL_IGNORE_OUTPUT" in c.source]
    assert not ignored, "outputs are checked by nbval with a sanitize file, not ignored"
