"""The glossary: complete, consistent, rendered safely, and every term taught where it says."""

import re

import nbformat
import pytest

from helpers import course, glossary
from helpers.glossary import PLANNED, TERMS, Term

CJK = re.compile(r"[\u4e00-\u9fff]")
# The words the source material and interviewers use; each must map to a course term.
SOURCE_TERMS = [
    "流式输出",
    "首字节时间",
    "断点续传",
    "背压",
    "心跳",
    "服务端推送",
    "长连接",
    "事件流",
    "限流",
    "重连",
]


def notebook_text(path) -> str:
    return "\n".join(cell.source for cell in nbformat.read(path, as_version=4).cells).lower()


def not_mentioned(terms, path) -> list[str]:
    text = notebook_text(path)
    return [t.en for t in terms if not any(form.lower() in text for form in t.forms)]


def test_about_forty_terms_each_in_both_languages_with_one_line_definitions():
    assert 35 <= len(TERMS) <= 60
    assert len({t.en.casefold() for t in TERMS}) == len(TERMS), "an English term is listed twice"
    assert len({t.zh for t in TERMS}) == len(TERMS), "a Chinese term is listed twice"
    for t in TERMS:
        assert CJK.search(t.zh) and CJK.search(t.definition_zh), t.en
        assert t.definition and not CJK.search(t.definition), t.en
        assert "\n" not in t.definition + t.definition_zh, f"{t.en}: definitions are one line"


def test_every_term_points_at_a_notebook_of_the_course_plan():
    known = {nb.number for nb in course.NOTEBOOKS} | set(PLANNED)
    assert {t.notebook for t in TERMS} <= known


def test_the_source_materials_words_are_all_there():
    assert set(SOURCE_TERMS) <= {t.zh for t in TERMS}
    by_en = {t.en: t.notebook for t in TERMS}
    # each term points at the notebook that teaches it, not only at one that mentions it
    assert by_en["tool call"] == by_en["structured output"] == "05"
    # 07 states it, 08 measures it
    assert by_en["backpressure"] == by_en["reverse proxy"] == by_en["proxy buffering"] == "08"
    # 06 runs replicas behind a balancer; 08 names them once
    assert by_en["sticky session"] == by_en["stream store"] == "06"
    assert by_en["grader"] == "10"


def test_every_notebook_of_the_course_teaches_terms_and_none_is_pending():
    assert {nb.number for nb in course.NOTEBOOKS} <= {t.notebook for t in TERMS}
    existing = {nb.number for nb in course.NOTEBOOKS if nb.path.exists()}
    assert not set(PLANNED) & existing, f"written now, no longer planned: {sorted(set(PLANNED) & existing)}"
    assert set(glossary.pending()) <= set(PLANNED), (
        "a term points at a notebook that is neither written nor planned"
    )


@pytest.mark.parametrize("number", sorted({t.notebook for t in TERMS}))
def test_every_term_appears_in_the_notebook_it_points_to(number):
    terms = [t for t in TERMS if t.notebook == number]
    notebook = next((nb for nb in course.NOTEBOOKS if nb.number == number), None)
    if notebook is None or not notebook.path.exists():
        names = ", ".join(t.en for t in terms)
        print(
            f"pending: notebook {number} ({PLANNED.get(number, 'not in the plan')}) is not written yet; its terms: {names}"
        )
        pytest.skip(f"pending until notebook {number} exists: {names}")
    missing = not_mentioned(terms, notebook.path)
    assert not missing, (
        f"{notebook.filename} never mentions {missing}: fix the term, or add the notebook's own spelling to its `spellings`"
    )


def test_the_check_finds_a_term_a_notebook_does_not_teach():
    stray = Term("backpressure", "背压", "01", "d", "释义")
    assert not_mentioned([stray], course.by_number("01").path) == ["backpressure"]


def test_the_tables_show_exactly_the_terms_whose_notebook_exists():
    table = glossary.markdown_table()
    rows = table.splitlines()[2:]
    existing = {nb.number for nb in course.NOTEBOOKS if nb.path.exists()}
    shown = [t for t in TERMS if t.notebook in existing]
    assert len(rows) == len(shown)
    for t in TERMS:
        assert (f"| {t.en} | {t.zh} |" in table) == (t.notebook in existing), t.en


def test_markdown_links_resolve_from_the_readme_and_from_the_notebooks():
    for prefix, base in (("notebooks/", course.ROOT), ("", course.NOTEBOOK_DIR)):
        links = re.findall(r"\]\(([^)]+)\)", glossary.markdown_table(link_prefix=prefix))
        assert links and all((base / link).exists() for link in links), prefix


def test_a_pipe_in_a_definition_does_not_break_the_markdown_table():
    term = Term("a|b", "甲|乙", "01", "x | y", "甲 | 乙")
    row = glossary.markdown_table([term]).splitlines()[2]
    assert len(re.findall(r"(?<!\\)\|", row)) == 6  # five cells


def test_a_term_of_a_notebook_not_written_yet_is_shown_without_a_link():
    term = Term("backpressure", "背压", "99", "d", "释义")
    assert "| 99 (planned) |" in glossary.markdown_table([term])
    assert "99 (planned)" in glossary.html_table([term]) and "href" not in glossary.html_table([term])


def test_html_is_escaped_and_code_is_marked_up():
    term = Term("<script>", "脚本", "01", "uses `yield` & <b>", "用 `yield`", ())
    table = glossary.html_table([term])
    assert "<script>" not in table and "&lt;script&gt;" in table
    assert "<code>yield</code> &amp; &lt;b&gt;" in table
    assert "href='01_generators.ipynb'" in table


def test_the_widget_filters_in_either_language_and_its_plain_text_is_fixed():
    view = glossary.GlossaryView()
    everything = view.table.value
    plain = view._repr_mimebundle_()["text/plain"]
    view.search.value = "续传"
    assert "Last-Event-ID" in view.table.value and "async generator" not in view.table.value
    view.search.value = "ASYNC GENERATOR"
    assert "异步生成器" in view.table.value and "断点续传" not in view.table.value
    view.search.value = "no such term"
    assert "没有匹配" in view.table.value
    view.search.value = ""
    assert view.table.value == everything
    assert view._repr_mimebundle_()["text/plain"] == plain
    assert glossary.GlossaryView(glossary.TERMS[:3])._repr_mimebundle_()["text/plain"] == plain, (
        "a stored output must not change when terms are added"
    )
    assert "application/vnd.jupyter.widget-view+json" in view._repr_mimebundle_()


def test_the_contents_notebook_renders_the_glossary_from_the_data_module_with_a_fixed_plain_text():
    cells = nbformat.read(course.NOTEBOOK_DIR / course.CONTENTS, as_version=4).cells
    rendering = [c for c in cells if c.cell_type == "code" and "GlossaryView()" in c.source]
    assert len(rendering) == 1, "00_contents shows the glossary from helpers.glossary in one code cell"
    shown = [o.data for o in rendering[0].outputs if o.output_type == "execute_result"]
    assert shown, "the cell is committed executed"
    assert shown[0]["text/plain"] == glossary.GlossaryView()._repr_mimebundle_()["text/plain"]
    assert "application/vnd.jupyter.widget-view+json" in shown[0]
