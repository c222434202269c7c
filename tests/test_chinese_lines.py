"""Every numbered notebook carries a Chinese line under its title, its learning goals and its summary.

A learner browsing the course in JupyterLab or on Binder finds each topic in either language, in
the form notebook 11 set:

    # NN · English title
    **中文标题**：an optional short line            (the title from helpers.course: `title_zh`)
    ...
    **Learning goals.** After this notebook you can:
    - ...

    **学习目标**：what the learner will be able to do, in written Chinese

    ## Summary
    **小结**：the one or two takeaways that matter most
"""

import copy
import re

import nbformat
import pytest

from helpers import course

CJK = re.compile(r"[\u4e00-\u9fff]")
CODE = re.compile(r"`[^`]*`")
NEXT = re.compile(r"^Next\b.*?\bnotebook (\d\d)\b", re.M)


def written_chinese(text: str, at_least: int) -> bool:
    """Chinese sentences, not English ones with a word of Chinese: enough Chinese characters, and
    (outside `code`) far fewer Latin letters than Chinese characters. Names like nginx or HTTP/2 stay."""
    prose = CODE.sub("", text)
    chinese = len(CJK.findall(prose))
    latin = len(re.findall(r"[A-Za-z]", prose))
    return chinese >= at_least and latin * 2 <= chinese


def summary_cell(cells):
    return next(
        (c for c in cells if c.cell_type == "markdown" and re.search(r"^## Summary", c.source, re.M)), None
    )


def problems(notebook: course.Notebook, cells) -> list[str]:
    """What is missing from the notebook's Chinese lines; empty when all three are there."""
    found = []
    lines = cells[1].source.split("\n")
    title = f"**{notebook.title_zh}**"
    if not lines[0].startswith(f"# {notebook.number} ·"):
        found.append("cell 1 does not start with the title line `# NN · Title`")
    if len(lines) < 2 or not lines[1].startswith(title):
        found.append(f"the line under the title is not the Chinese title {title} (helpers.course's title_zh)")
    elif lines[1] != title and not (
        lines[1][len(title)] == "：" and written_chinese(lines[1][len(title) :], 4)
    ):
        found.append("after the Chinese title, only `：` and a short Chinese line may follow")

    goals = [i for i, line in enumerate(lines) if line.startswith("**Learning goals.**")]
    zh_goals = [i for i, line in enumerate(lines) if line.startswith("**学习目标**：")]
    if not zh_goals or not goals or zh_goals[0] < goals[0]:
        found.append("no `**学习目标**：` line after the learning goals")
    elif not written_chinese(lines[zh_goals[0]], 30):
        found.append("the `**学习目标**：` line is not a sentence or two of written Chinese")

    summary = summary_cell(cells)
    if summary is None:
        found.append("no `## Summary` cell")
    else:
        summary_lines = summary.source.split("\n")
        if len(summary_lines) < 2 or not summary_lines[1].startswith("**小结**："):
            found.append("no `**小结**：` line directly under `## Summary`")
        elif not written_chinese(summary_lines[1], 25):
            found.append("the `**小结**：` line is not a sentence or two of written Chinese")
    return found


def read(notebook):
    return nbformat.read(notebook.path, as_version=4).cells


@pytest.mark.parametrize("notebook", course.NOTEBOOKS, ids=lambda nb: nb.path.stem)
def test_title_learning_goals_and_summary_each_carry_a_chinese_line(notebook):
    assert problems(notebook, read(notebook)) == []


@pytest.mark.parametrize("notebook", course.NOTEBOOKS[:-1], ids=lambda nb: nb.path.stem)
def test_the_summary_points_at_the_next_notebook(notebook):
    following = course.NOTEBOOKS[course.NOTEBOOKS.index(notebook) + 1]
    pointers = NEXT.findall(summary_cell(read(notebook)).source)
    assert pointers == [following.number], (
        f"the summary's `Next:` line names notebook {pointers}, the course's next is {following.number}"
    )


def strip_chinese(cells):
    cells = copy.deepcopy(cells)
    for cell in cells:
        cell.source = "\n".join(
            line for line in cell.source.split("\n") if not re.match(r"\*\*(学习目标|小结)\*\*：", line)
        )
    cells[1].source = "\n".join(line for i, line in enumerate(cells[1].source.split("\n")) if i != 1)
    return cells


def test_the_check_finds_each_missing_or_english_only_line():
    notebook = course.by_number("01")
    cells = read(notebook)
    assert len(problems(notebook, strip_chinese(cells))) == 3

    english = copy.deepcopy(cells)
    english[1].source = re.sub(
        r"\*\*学习目标\*\*：.*",
        "**学习目标**：After this notebook you can explain `yield` and lazy evaluation, and measure what it saves.",
        english[1].source,
    )
    summary = summary_cell(english)
    summary.source = summary.source.replace("**小结**：", "**Summary**：")
    found = problems(notebook, english)
    assert any("学习目标" in p and "written Chinese" in p for p in found), found
    assert any("小结" in p for p in found), found

    other_title = copy.deepcopy(cells)
    other_title[1].source = other_title[1].source.replace(notebook.title_zh, "生成器")
    assert any("title_zh" in p for p in problems(notebook, other_title))


def test_the_next_pointer_check_reads_the_summarys_own_words():
    assert NEXT.findall("- a point\n\nNext: notebook 09 asks when not to stream at all.") == ["09"]
    assert NEXT.findall("Next, the values leave the process: notebook 02 puts them on the wire.") == ["02"]
