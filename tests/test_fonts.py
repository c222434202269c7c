"""Chinese figure labels: drawn with a CJK font when there is one, English with one note when not."""

import logging
import warnings

import matplotlib
import pytest

matplotlib.use("Agg")
import matplotlib.pyplot as plt

from helpers import fonts


def draw(title: str, xlabel: str) -> list[str]:
    """Draw a figure; return every warning and log record matplotlib emitted about fonts and glyphs."""
    fig, ax = plt.subplots()
    ax.set_title(title)
    ax.set_xlabel(xlabel)
    records = []

    class Collect(logging.Handler):
        def emit(self, record):
            records.append(record.getMessage())

    handler = Collect(level=logging.WARNING)
    logging.getLogger("matplotlib").addHandler(handler)
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            fig.canvas.draw()
    finally:
        logging.getLogger("matplotlib").removeHandler(handler)
        plt.close(fig)
    return [str(w.message) for w in caught] + records


@pytest.fixture(autouse=True)
def own_rc_params(monkeypatch):
    """chinese_labels() changes matplotlib's global settings: give each test its own, and a fresh note."""
    monkeypatch.setattr(fonts, "_noted", False)
    with matplotlib.rc_context():
        yield


def test_chinese_text_in_the_default_font_is_a_flood_of_missing_glyphs():
    # What the helper prevents: without it, each Chinese character is a box and a warning.
    matplotlib.rcParams["font.family"] = ["DejaVu Sans"]
    problems = draw("首字节时间", "秒")
    assert sum("Glyph" in p and "missing" in p for p in problems) >= 3


def test_with_a_cjk_font_chinese_labels_draw_every_glyph(capsys):
    if fonts.find_cjk_font() is None:
        pytest.skip(
            f"no CJK font installed here ({fonts.INSTALL_HINT}); the fallback test covers this machine"
        )
    label = fonts.chinese_labels()
    assert label.chinese and label.font in matplotlib.rcParams["font.family"]
    assert label("首字节时间", "time to first byte") == "首字节时间"
    assert draw(label("首字节时间 (TTFB)", "time to first byte"), label("秒", "seconds")) == []
    assert capsys.readouterr().out == ""


def test_without_a_cjk_font_labels_are_english_after_one_note(monkeypatch, capsys):
    monkeypatch.setattr(fonts, "_known_families", lambda: {"DejaVu Sans"})
    monkeypatch.setattr(fonts, "_add_system_cjk_fonts", lambda: None)
    family = list(matplotlib.rcParams["font.family"])
    first, second = fonts.chinese_labels(), fonts.chinese_labels()
    assert not first.chinese and not second.chinese
    assert first("首字节时间", "time to first byte") == "time to first byte"
    assert matplotlib.rcParams["font.family"] == family
    note = capsys.readouterr().out.strip().splitlines()
    assert len(note) == 1 and fonts.INSTALL_HINT in note[0]
    assert draw(first("首字节时间", "time to first byte"), first("秒", "seconds")) == []


def test_a_font_installed_after_matplotlib_listed_its_fonts_is_found(monkeypatch):
    from matplotlib import font_manager

    if not any("cjk" in path.lower() for path in font_manager.findSystemFonts()):
        pytest.skip(f"no CJK font file installed here ({fonts.INSTALL_HINT})")
    # Pretend matplotlib's cached font list predates the install: no CJK entry in it.
    without = [entry for entry in font_manager.fontManager.ttflist if "CJK" not in entry.name]
    monkeypatch.setattr(font_manager.fontManager, "ttflist", without)
    assert fonts.find_cjk_font() in fonts.CJK_FONTS


def test_notebook_11_draws_its_figure_with_chinese_labels_and_no_missing_glyph_warning():
    import nbformat

    from helpers import course

    cells = nbformat.read(course.by_number("11").path, as_version=4).cells
    figure = [c for c in cells if c.cell_type == "code" and "chinese_labels()" in c.source]
    assert len(figure) == 1, "notebook 11 labels one figure through helpers.fonts.chinese_labels"
    outputs = figure[0].outputs
    assert any("image/png" in o.get("data", {}) for o in outputs), (
        "the figure was drawn when the notebook was executed"
    )
    printed = "".join(o.get("text", "") for o in outputs if o.output_type == "stream")
    assert "missing from" not in printed and "Glyph" not in printed, printed[:300]
