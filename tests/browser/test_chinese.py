"""Notebook 11 as a learner sees it: the interview answers in 中文, in JupyterLab in Chromium, in a CJK font.

JupyterLab runs behind the Binder-like base URL of `lab_server.jupyterlab()`. The test runs the
notebook, switches the answers' language in the page, filters the glossary, and asks Chromium
which font drew the Chinese. `document.fonts.check()` cannot answer that: for a font that is not a
web font it reports true whether or not the font exists. The DevTools protocol's
`CSS.getPlatformFontsForNode` names the fonts that actually drew a node's glyphs, so a page of
tofu boxes, drawn by a Latin font's missing-glyph box, fails: the first test shows that it does.

Screenshots go to tests/artifacts/: notebook-11-chinese.png (the window, at question 1) and
notebook-11-answer-1.png (question 1's whole answer); notebook-11-fonts.json lists the fonts
Chromium used for the Chinese, with the glyphs each drew; no-cjk-font-boxes.png shows what the
check catches (a Chromium that sees no CJK font draws boxes).
"""

import json
import os
import re
from pathlib import Path

import pytest

from helpers import fonts

from . import conftest as browser_conftest
from .conftest import ARTIFACTS
from .lab_server import jupyterlab
from .test_jupyterlab import run_all

pytestmark = pytest.mark.browser
NOTEBOOK = "11_interview_drill.ipynb"
DRILL = ".lab-drill"
HAN = re.compile(r"[\u4e00-\u9fff]")  # CJK unified ideographs: what a Latin font cannot draw


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    with jupyterlab(tmp_path_factory.mktemp("jupyterlab")) as url:
        yield url


# All four answers rendered by the widget manager, each with its Chinese points.
DRILLS_SHOWN = f"""() => {{
    const views = [...document.querySelectorAll('{DRILL}')];
    return views.length === 4 && views.every((v) => v.querySelector("p[lang='zh-CN']"));
}}"""


def wait_for_run_to_stop(page, timeout=240):
    """Run All stops at the exercise's check (NotSolvedYet) or runs past it: wait until no cell is queued or running."""
    page.wait_for_function(
        "document.querySelector('.jp-Notebook').innerText.includes('NotSolvedYet')", timeout=timeout * 1000
    )
    page.wait_for_function(
        "![...document.querySelectorAll('.jp-CodeCell .jp-InputPrompt')].some((p) => p.textContent.includes('[*]'))",
        timeout=timeout * 1000,
    )


def platform_fonts(page, selector: str) -> dict[str, int]:
    """{font family: glyphs drawn} for the text directly inside the first element matching `selector`, as Chromium rendered it."""
    cdp = page.context.new_cdp_session(page)
    try:
        cdp.send("DOM.enable")
        cdp.send("CSS.enable")
        root = cdp.send("DOM.getDocument", {"depth": 0})["root"]["nodeId"]
        node = cdp.send("DOM.querySelector", {"nodeId": root, "selector": selector})["nodeId"]
        assert node, f"nothing matches {selector!r}"
        used = cdp.send("CSS.getPlatformFontsForNode", {"nodeId": node})["fonts"]
    finally:
        cdp.detach()
    return {font["familyName"]: font["glyphCount"] for font in used}


def own_text(page, selector: str) -> str:
    """The text of the element's own text nodes (not its children's), the text `platform_fonts` reports on."""
    return page.evaluate(
        "(s) => [...document.querySelector(s).childNodes].filter((n) => n.nodeType === 3).map((n) => n.textContent).join('')",
        selector,
    )


def cjk_font_problem(page, selector: str) -> str | None:
    """None if a CJK font drew every Chinese character directly inside `selector`; else what Chromium drew them with."""
    ideographs = len(HAN.findall(own_text(page, selector)))
    used = platform_fonts(page, selector)
    drawn = sum(glyphs for family, glyphs in used.items() if family in fonts.CJK_FONTS)
    assert ideographs >= 10, f"{selector}: too little Chinese to judge: {own_text(page, selector)!r}"
    if drawn >= ideographs:
        return None
    return f"{selector}: {ideographs} Chinese characters, drawn with {used}: no CJK font, so boxes (install one: {fonts.INSTALL_HINT})"


def answer_1(page):
    return page.locator(DRILL).first


def test_the_font_check_sees_boxes_when_chromium_has_no_cjk_font(browser, tmp_path):
    """The check below can fail: a Chromium that sees only DejaVu (matplotlib's copy) draws boxes, and the check says so."""
    import matplotlib

    (tmp_path / "fonts.conf").write_text(f"""<?xml version="1.0"?>
<!DOCTYPE fontconfig SYSTEM "fonts.dtd">
<fontconfig><dir>{Path(matplotlib.get_data_path()) / "fonts" / "ttf"}</dir><cachedir>{tmp_path / "cache"}</cachedir></fontconfig>""")
    sentence = "<p lang='zh-CN' id='zh'>流式输出就是边生成边发送，首字节时间更短 (streaming)</p>"
    without = browser.browser_type.launch(
        executable_path=browser_conftest.CHROMIUM.as_posix(),
        headless=True,
        args=browser_conftest.ARGS,
        env={**os.environ, "FONTCONFIG_FILE": str(tmp_path / "fonts.conf")},
    )
    try:
        page = without.new_page()
        page.set_content(sentence)
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(
            path=str(ARTIFACTS / "no-cjk-font-boxes.png"), clip={"x": 0, "y": 0, "width": 600, "height": 60}
        )
        assert cjk_font_problem(page, "#zh") is not None
    finally:
        without.close()
    page = browser.new_page()
    page.set_content(sentence)
    assert cjk_font_problem(page, "#zh") is None, "this machine's Chromium has a CJK font"
    page.close()


def test_notebook_11_shows_the_answers_in_chinese_in_a_cjk_font_and_switches_language(page, lab):
    run_all(page, lab, NOTEBOOK)
    page.wait_for_function(DRILLS_SHOWN, timeout=240_000)
    wait_for_run_to_stop(page)
    text = page.locator(".jp-Notebook").inner_text()
    assert "Error displaying widget" not in text and "Loading widget" not in text

    # The learner's own numbers, in Chinese: notebook 11 measured the first byte on the spot
    # (the test's evidence folder starts empty), and names the notebook for what it could not measure.
    first = answer_1(page).inner_text()
    assert "问题1: 请解释什么是流式输出" in first
    assert re.search(r"首字节时间（time to first byte，TTFB）是 \d+\.\d\d 秒", first), first[:1500]
    assert re.search(r"the first byte arrived after \d+\.\d\d s streamed", first)
    assert "运行笔记本 04《用 LangChain 流式输出大模型回答》" in first, (
        "a measurement not taken says which notebook takes it"
    )

    # Chromium drew the Chinese with a CJK font: every ideograph of the paragraph and of the heading.
    selectors = (f"{DRILL} p[lang='zh-CN']", f"{DRILL} h4[lang='zh-CN']")
    ARTIFACTS.mkdir(exist_ok=True)
    report = {selector: platform_fonts(page, selector) for selector in selectors}
    (ARTIFACTS / "notebook-11-fonts.json").write_text(
        json.dumps(report, ensure_ascii=False, indent=1), encoding="utf-8"
    )
    problems = [problem for selector in selectors if (problem := cjk_font_problem(page, selector))]
    assert not problems, problems

    # A notification toast (JupyterLab's news question) would cover the answer: answer it as a learner would.
    for close in page.locator(".Toastify__toast button", has_text=re.compile(r"^No$")).all():
        close.click()
    # the window at question 1: its heading at the top, the Chinese answer below it
    page.evaluate(
        "() => [...document.querySelectorAll('.jp-Notebook h2')].find((h) => h.textContent.includes('Question 1')).scrollIntoView()"
    )
    page.wait_for_timeout(300)
    page.screenshot(path=str(ARTIFACTS / "notebook-11-chinese.png"))
    # the whole answer: a window tall enough to hold it (the notebook scrolls inside the page, so an
    # element screenshot cannot scroll to the part below the window)
    viewport = page.viewport_size
    page.set_viewport_size(
        {"width": viewport["width"], "height": int(answer_1(page).bounding_box()["height"]) + 400}
    )
    answer_1(page).scroll_into_view_if_needed()
    page.wait_for_timeout(300)
    answer_1(page).screenshot(path=str(ARTIFACTS / "notebook-11-answer-1.png"))
    page.set_viewport_size(viewport)

    # The switch: 中文 only, English only, then both again; the kernel answers each click.
    switch = answer_1(page).locator("button")
    switch.filter(has_text=re.compile(r"^中文$")).click()
    page.wait_for_function(f"!document.querySelector('{DRILL}').querySelector(\"p[lang='en']\")")
    assert answer_1(page).locator("p[lang='zh-CN']").count() >= 6
    switch.filter(has_text=re.compile(r"^English$")).click()
    page.wait_for_function(f"!document.querySelector('{DRILL}').querySelector(\"p[lang='zh-CN']\")")
    assert "Streaming means sending the answer while it is being produced" in answer_1(page).inner_text()
    switch.filter(has_text=re.compile(r"^中文 \+ English$")).click()
    page.wait_for_function(
        f"document.querySelector('{DRILL}').querySelector(\"p[lang='zh-CN']\") && document.querySelector('{DRILL}').querySelector(\"p[lang='en']\")"
    )

    # The glossary of the terms the answers use, filtered in Chinese.
    rows = page.locator(".lab-glossary-view tbody tr")
    every_term = rows.count()
    page.locator(".lab-glossary-view input").fill("续传")
    page.wait_for_function(f"document.querySelectorAll('.lab-glossary-view tbody tr').length < {every_term}")
    shown = rows.all_inner_texts()
    assert shown and all("续传" in row for row in shown), shown
    assert any("断点续传" in row and "resume" in row for row in shown), shown
