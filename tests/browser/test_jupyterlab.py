"""The course as a learner sees it: JupyterLab in Chromium, behind a Binder-like base URL.

JupyterLab runs with `--ServerApp.base_url=/user/test/` and the kernel sees
JUPYTERHUB_SERVICE_PREFIX=/user/test/, as on Binder, so the pages are reached through
jupyter-server-proxy at /user/test/proxy/<port>/.
"""

import json
import re
import time

import pytest
from playwright.sync_api import TimeoutError as PlaywrightTimeout

from helpers.embedded_model import reply_for

from .conftest import sample
from .lab_server import BASE, jupyterlab

pytestmark = pytest.mark.browser
NB01_TEXT = "Streaming shows the first words while the rest are still being written."
NB04_PROMPT = "What is SSE, and why do chat apps stream?"


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    with jupyterlab(tmp_path_factory.mktemp("jupyterlab")) as url:
        yield url


def run_all(page, lab, notebook):
    page.goto(f"{lab}lab/tree/{notebook}?reset")
    page.locator(".jp-Notebook").first.wait_for()
    page.wait_for_function("document.body.textContent.includes('Kernel status: Idle')", timeout=60_000)
    for attempt in range(3):
        page.locator(".lm-MenuBar-itemLabel", has_text=re.compile(r"^Run$")).click()
        page.locator(".lm-Menu-itemLabel", has_text=re.compile(r"^Run All Cells$")).click()
        try:  # a kernel that has only just started can drop the first requests: then ask again
            page.wait_for_function("document.querySelector('.jp-CodeCell .jp-InputPrompt').textContent.includes('1')", timeout=15_000)
            return
        except PlaywrightTimeout:
            page.wait_for_timeout(1000)
    raise AssertionError("Run All did not start the first cell")


def done_running(page) -> bool:
    return page.evaluate("""() => [...document.querySelectorAll('.jp-CodeCell .jp-InputPrompt')]
        .every((p) => /\\[\\d+\\]/.test(p.textContent))""")


def wait_until_done(page, timeout=180):
    deadline = time.monotonic() + timeout
    while not done_running(page):
        assert time.monotonic() < deadline, "Run All did not finish"
        page.wait_for_timeout(500)


def no_broken_widgets(page):
    text = page.locator(".jp-Notebook").inner_text()
    assert "Error displaying widget" not in text
    assert "Loading widget" not in text



def watch_widget(page, index: int, final_text: str, timeout=90) -> list[int]:
    """Lengths of the index-th token widget's text, sampled until it shows `final_text`."""
    selector = f"document.querySelectorAll('.lab-token-text')[{index}]"
    return sample(page, f"{selector} ? {selector}.textContent.length : 0",
                  until=f"{selector} && {selector}.textContent === {json.dumps(final_text)}", every=0.05, timeout=timeout)


def grew_live(lengths: list[int]) -> bool:
    """Several different partial lengths were seen: the widget updated while tokens arrived."""
    partial = {n for n in lengths if 0 < n < max(lengths)}
    return len(partial) >= 3 and lengths == sorted(lengths)


def test_notebook_01_types_live_in_jupyterlab(page, lab):
    run_all(page, lab, "01_generators.ipynb")
    lengths = watch_widget(page, 0, NB01_TEXT)
    assert grew_live(lengths), lengths
    wait_until_done(page)
    no_broken_widgets(page)
    assert page.locator(".lab-token-text").first.inner_text() == NB01_TEXT
    assert "final text is exact" in page.locator(".jp-Notebook").inner_text()


def test_notebook_04_types_live_and_its_pages_stream_through_the_proxy(page, lab):
    run_all(page, lab, "04_llm_streaming.ipynb")
    reply = "".join(reply_for(NB04_PROMPT))
    lengths = watch_widget(page, 0, reply)
    assert grew_live(lengths), lengths
    wait_until_done(page, timeout=240)
    no_broken_widgets(page)
    assert "the relayed text equals the model's reply" in page.locator(".jp-Notebook").inner_text()

    frames = {name: next(f for f in page.frames if re.search(rf"{BASE}proxy/\d+/{name}\?autostart", f.url)) for name in ("", "fetch")}
    for name, frame in frames.items():
        frame.wait_for_function("window.lab && window.lab.state === 'done'", timeout=60_000)
        assert frame.evaluate("lab.text") == reply, name
        spread = frame.evaluate("lab.arrivals[lab.arrivals.length - 1] - lab.arrivals[0]")
        # through the proxy the tokens arrived over the model's ~2 s, not in one burst at the end
        assert spread > 1000, (name, spread)
