"""The source material's claims: every one quoted as written, given a verdict and a place that exists."""

import re
import warnings

import nbformat
import pytest

from helpers import claims, course, source_material

HEADING = re.compile(r"^#+\s+(.*)$", re.M)
LEVELLED_HEADING = re.compile(r"^(#+)\s+(.*)$", re.M)
QUOTE = re.compile(r"「(.+?)」")


def headings(notebook: str) -> list[str] | None:
    """The headings of notebook `NN`, or None if it does not exist yet."""
    paths = sorted(course.NOTEBOOK_DIR.glob(f"{notebook}_*.ipynb"))
    if not paths:
        return None
    cells = nbformat.read(paths[0], as_version=4).cells
    return [h for c in cells if c.cell_type == "markdown" for h in HEADING.findall(c.source)]


def test_every_claim_quotes_the_source_as_written_and_has_a_verdict():
    for claim in claims.CLAIMS:
        for words in (claim.zh, *claim.also):
            source_material.quote(words)  # raises if the source does not contain them exactly
        assert claim.status in claims.STATUSES, claim.id
        assert claim.en and claim.note and re.fullmatch(r"\d\d", claim.notebook), claim.id
    ids = [claim.id for claim in claims.CLAIMS]
    assert len(ids) == len(set(ids))


def claim_lines() -> list[tuple[int, str]]:
    """Lines of the source's answers that can carry a claim: the weak answers, and the strong ones outside code."""
    lines, in_code = [], False
    for number, line in enumerate(source_material.text().splitlines(), 1):
        if line.startswith(">"):
            body = line[1:].strip()
        elif line.startswith('"'):  # the weak answers are quoted paragraphs
            body = line
        else:
            continue
        if body.startswith("```"):
            in_code = not in_code
        elif body and not in_code and body not in claims.STRUCTURE:
            lines.append((number, body))
    return lines


def test_every_line_of_the_source_that_makes_a_claim_has_a_row():
    quoted = [words for claim in claims.CLAIMS for words in (claim.zh, *claim.also)]
    missing = [(n, line) for n, line in claim_lines() if not any(words in line for words in quoted)]
    assert len(claim_lines()) > 90
    assert not missing, (
        f"source lines with no claim in helpers.claims (add a claim, or to STRUCTURE if it claims nothing): {missing}"
    )


def test_the_code_claims_cover_the_quoted_code():
    code = source_material.handler_code() + source_material.client_script()
    in_code = [claim.id for claim in claims.CLAIMS if claim.zh in code]
    assert {
        "post-route",
        "query-param",
        "event-error",
        "str-e",
        "finally-done",
        "client-post-mismatch",
        "listen-error",
    } <= set(in_code)


def test_every_claim_points_at_a_section_that_exists_or_is_listed_as_pending():
    pending, wrong = [], []
    for claim in claims.CLAIMS:
        found = headings(claim.notebook)
        resolved = found is not None and any(claim.section in heading for heading in found)
        if not resolved:
            (pending if claim.planned else wrong).append(f"{claim.id} -> {claim.notebook} '{claim.section}'")
    assert not wrong, f"claims whose notebook or section does not exist: {wrong}"
    # the table's "where" column already prints the notebook's number before the section
    repeated = [claim.id for claim in claims.CLAIMS if claim.section.startswith(f"{claim.notebook} ·")]
    assert not repeated, f"sections that repeat their notebook's number: {repeated}"
    if pending:
        warnings.warn(f"{len(pending)} claims wait for a section in a later pass: {pending}", stacklevel=1)


@pytest.mark.parametrize("number", ["02", "04", "05", "06", "07", "09", "11"])
def test_every_chinese_quote_in_the_notebook_is_the_source_as_written(number):
    path = next(course.NOTEBOOK_DIR.glob(f"{number}_*.ipynb"))
    cells = nbformat.read(path, as_version=4).cells
    quotes = [q for c in cells if c.cell_type == "markdown" for q in QUOTE.findall(c.source)]
    assert quotes, "a notebook that corrects the source quotes it"
    for words in quotes:
        source_material.quote(words.replace("\\|", "|"))


def test_the_table_has_one_row_per_claim_with_the_source_words():
    table = claims.markdown_table()
    assert len(table.splitlines()) == len(claims.CLAIMS) + 2
    assert "捕获超时异常,发送 error 事件,但不关闭连接" in table


def section_text(notebook: str, section: str) -> str:
    """The cells of the section whose heading contains `section`: from that heading to the next one of its level or higher."""
    path = next(course.NOTEBOOK_DIR.glob(f"{notebook}_*.ipynb"))
    cells = nbformat.read(path, as_version=4).cells
    kept, level = [], None
    for cell in cells:
        found = LEVELLED_HEADING.findall(cell.source) if cell.cell_type == "markdown" else []
        if level is None:
            level = next((len(marks) for marks, heading in found if section in heading), None)
            if level is not None:
                kept.append(cell.source)
        elif any(len(marks) <= level for marks, _ in found):
            break
        else:
            kept.append(cell.source)
    return "\n".join(kept).replace("\\|", "|")


# The notebooks of the second correctness pass quote every claim they place, in its own section.
QUOTING_NOTEBOOKS = ("04", "05", "06")


@pytest.mark.parametrize(
    "claim", [c for c in claims.CLAIMS if c.notebook in QUOTING_NOTEBOOKS], ids=lambda c: c.id
)
def test_a_claim_placed_in_04_05_or_06_is_quoted_in_its_section(claim):
    assert not claim.planned, "04, 05 and 06 hold every cell they owe: no claim there is pending"
    text = section_text(claim.notebook, claim.section)
    assert text, f"no section {claim.section!r} in notebook {claim.notebook}"
    quoted = QUOTE.findall(text)
    assert any(words in quote for words in (claim.zh, *claim.also) for quote in quoted), (
        f"{claim.id}: section {claim.section!r} does not quote 「{claim.zh}」"
    )
