"""docs/teaching.md, the teacher's guide: it covers every notebook, its measured figures are the last
measurement's, and the errors it tells teachers to expect are the ones the notebooks really show."""

import json
import re
import sys
from pathlib import Path

import nbformat
import pytest

from helpers import course

ROOT = Path(__file__).resolve().parent.parent
GUIDE = ROOT / "docs" / "teaching.md"
sys.path.insert(0, str(ROOT / "tests" / "benchmarks"))
import sizing  # noqa: E402

# What the guide quotes as an error a student will see: a bullet that opens with a quote, or the exercise's check.
QUOTED = [re.compile(r"^- `([^`]+)`", re.M), re.compile(r"The exercise's check[^`\n]*?: `([^`]+)`")]


def sections() -> dict[str, str]:
    """The guide's per-notebook sections, by notebook number."""
    parts = re.split(r"^### (\d\d) · ", GUIDE.read_text(), flags=re.M)
    return {number: body for number, body in zip(parts[1::2], parts[2::2])}


def outputs_of(path: Path) -> str:
    """Every error, stream and text output stored in a notebook, without Markdown backticks."""
    found = []
    for cell in nbformat.read(path, as_version=4).cells:
        for output in cell.get("outputs", []):
            if output.output_type == "error":
                found.append(f"{output.ename}: {output.evalue}")
            elif output.output_type == "stream":
                found.append(output.text)
            else:
                found.append(str(output.get("data", {}).get("text/plain", "")))
    return "\n".join(found).replace("`", "")


def pattern_of(quote: str) -> re.Pattern:
    """A quote as a pattern: `...` and `[...]` stand for elided text, NNNNN for a port, and measured
    numbers (0.45) match any number, so a re-executed notebook still matches."""
    pattern = re.escape(quote)
    pattern = (
        pattern.replace(re.escape("[...]"), ".*").replace(re.escape("..."), ".*").replace("NNNNN", r"\d+")
    )
    pattern = re.sub(r"\d+\\\.\d+", r"[\\d.]+", pattern)
    return re.compile(pattern, re.S)


def quotes(body: str) -> list[str]:
    stuck = body.split("**Where students get stuck.**", 1)[1].split("**Discuss.**", 1)[0]
    return [quote for regex in QUOTED for quote in regex.findall(stuck)]


def test_the_guide_names_every_notebook_with_goals_stuck_points_and_questions():
    text, found = GUIDE.read_text(), sections()
    for nb in course.NOTEBOOKS:
        assert nb.filename in text, f"docs/teaching.md does not name {nb.filename}"
        assert nb.number in found, f"docs/teaching.md has no section `### {nb.number} · {nb.title}`"
        for part in ("**Goals.**", "**Where students get stuck.**", "**Discuss.**"):
            assert part in found[nb.number], f"section {nb.number} has no {part}"
    assert sorted(found) == [nb.number for nb in course.NOTEBOOKS]


def test_both_lesson_plans_are_there_and_name_notebooks():
    text = GUIDE.read_text()
    for plan in ("### One full day", "### Three 90-minute sessions"):
        body = text.split(plan, 1)[1].split("\n### ", 1)[0]
        assert len(set(re.findall(r"\b(0\d|1[01])\b", body))) >= 6, f"{plan} names too few notebooks"


@pytest.mark.parametrize("number", [nb.number for nb in course.NOTEBOOKS])
def test_the_errors_the_guide_quotes_are_the_ones_the_notebook_shows(number):
    body = sections()[number]
    stored = outputs_of(course.by_number(number).path)
    found = quotes(body)
    assert found, f"section {number} quotes no error a student will see"
    for quote in found:
        assert pattern_of(quote).search(stored), (
            f"section {number} quotes `{quote}`, which notebook {number}'s outputs do not show"
        )


def test_the_quote_check_rejects_an_error_the_notebook_does_not_show():
    stored = outputs_of(course.by_number("01").path)
    assert pattern_of("TypeError: 'async_generator' object is not iterable").search(stored)
    assert not pattern_of("TypeError: 'generator' object is not callable").search(stored)
    assert pattern_of("you reported the first token after 9.99 s").search(
        "you reported the first token after 0.00 s"
    )


def test_the_measured_figures_are_the_last_measurements():
    figures = json.loads(sizing.RESULTS_JSON.read_text())
    block = GUIDE.read_text().split(sizing.SIZING_START, 1)[1].split(sizing.SIZING_END, 1)[0]
    assert block.strip() == sizing.teaching_block(figures).strip(), (
        "run `python tests/benchmarks/sizing.py --docs` (or measure again: `python tests/benchmarks/run.py --only 7`)"
    )
    assert sizing.VALUES.read_text() == sizing.jupyterhub_values(figures)
    for nb in course.NOTEBOOKS:
        assert f"| {nb.number} {nb.title} |" in block


def test_the_jupyterhub_limits_cover_the_measured_peak():
    figures = json.loads(sizing.RESULTS_JSON.read_text())
    student = sizing.per_student(figures)
    values = sizing.VALUES.read_text()
    limit = int(re.search(r"^    limit: (\d+)M$", values, re.M).group(1))
    guarantee = int(re.search(r"^    guarantee: (\d+)M$", values, re.M).group(1))
    assert student["peak_mb"] <= limit and guarantee <= limit
    assert "01_generators.ipynb" in values and "repo2docker" in values
