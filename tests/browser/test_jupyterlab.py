"""The course as a learner sees it: JupyterLab in Chromium, behind a Binder-like base URL.

JupyterLab runs with `--ServerApp.base_url=/user/test/` and the kernel sees
JUPYTERHUB_SERVICE_PREFIX=/user/test/, as on Binder, so the pages are reached through
jupyter-server-proxy at /user/test/proxy/<port>/.
"""

import json
import re
import time
import warnings

import pytest
from playwright.sync_api import TimeoutError as PlaywrightTimeout

from helpers.embedded_model import reply_for

from .conftest import ARTIFACTS
from .lab_server import BASE, jupyterlab

pytestmark = pytest.mark.browser
NB01_TEXT = "Streaming shows the first words while the rest are still being written."
NB04_PROMPT = "What is SSE, and why do chat apps stream?"


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    with jupyterlab(tmp_path_factory.mktemp("jupyterlab")) as url:
        yield url


# What JupyterLab itself reports about the open notebook: its document, its session, its kernel.
KERNEL_STATE = """(path) => {
    const dialog = document.querySelector('.jp-Dialog');
    if (dialog) return 'dialog: ' + dialog.innerText.replace(/\\s+/g, ' ').slice(0, 200);
    const panel = window.jupyterapp.shell.currentWidget;
    if (!panel || !panel.context || panel.context.path !== path) return 'notebook not open yet';
    const session = panel.sessionContext;
    if (!session.isReady) return 'session not ready';
    const kernel = session.session && session.session.kernel;
    if (!kernel) return 'session has no kernel';
    if (kernel.connectionStatus !== 'connected') return 'kernel ' + kernel.connectionStatus;
    if (kernel.status !== 'idle') return 'kernel ' + kernel.status;
    return 'ready';
}"""
# The value of the Select Kernel dialog's option for the notebook's own kernelspec.
OWN_KERNEL_OPTION = """() => {
    const name = window.jupyterapp.shell.currentWidget.context.model.defaultKernelName;
    const options = [...document.querySelectorAll('.jp-Dialog select option')];
    const own = options.find((o) => { try { return JSON.parse(o.value).name === name; } catch { return false; } });
    return own ? [own.value, own.text] : [null, name];
}"""


def open_notebook(page, lab, notebook, *, url_suffix="?reset", choose_kernel=True, timeout=120):
    """Open `notebook` and wait until JupyterLab reports its kernel connected and idle, with no dialog open.

    Running cells earlier races JupyterLab's start-up: Run All on a session that has no kernel yet
    makes JupyterLab ask for one (the Select Kernel dialog). If that dialog appears anyway, choose
    the notebook's own kernel as a user would (`choose_kernel`), and say so in the test's warnings.
    """
    page.goto(f"{lab}lab/tree/{notebook}{url_suffix}")
    page.wait_for_function("() => window.jupyterapp !== undefined", timeout=timeout * 1000)
    page.evaluate("() => window.jupyterapp.restored.then(() => true)")
    deadline, state = time.monotonic() + timeout, None
    while (state := page.evaluate(KERNEL_STATE, notebook)) != "ready":
        if state.startswith("dialog: Select Kernel") and choose_kernel:
            value, label = page.evaluate(OWN_KERNEL_OPTION)
            assert value is not None, f"the Select Kernel dialog offers no {label!r} kernel"
            page.locator(".jp-Dialog select").select_option(value=value)
            page.locator(".jp-Dialog .jp-mod-accept").click()
            warnings.warn(
                f"JupyterLab showed the Select Kernel dialog for {notebook}; chose {label!r}, the notebook's own kernel",
                stacklevel=2,
            )
        elif state.startswith("dialog: "):
            raise AssertionError(f"a dialog covers {notebook}: {state[8:]!r}")
        assert time.monotonic() < deadline, (
            f"{notebook}: JupyterLab did not report its kernel connected and idle in {timeout} s; last: {state}"
        )
        page.wait_for_timeout(100)


# Every length each token widget's text shows, recorded by the page as the DOM changes: sampling
# from the test instead could miss updates while the machine is busy.
RECORD_WIDGETS = """() => {
    window.labWidgetLengths = [];
    const record = () => document.querySelectorAll('.lab-token-text').forEach((el, i) => {
        const seen = window.labWidgetLengths[i] || (window.labWidgetLengths[i] = []);
        if (seen[seen.length - 1] !== el.textContent.length) seen.push(el.textContent.length);
    });
    new MutationObserver(record).observe(document.querySelector('.jp-Notebook'), {subtree: true, childList: true, characterData: true});
}"""


def run_all(page, lab, notebook):
    open_notebook(page, lab, notebook)
    page.evaluate(RECORD_WIDGETS)
    page.locator(".lm-MenuBar-itemLabel", has_text=re.compile(r"^Run$")).click()
    page.locator(".lm-Menu-itemLabel", has_text=re.compile(r"^Run All Cells$")).click()
    # the committed notebook already shows [1], [2]…: a run has started once cells are queued, [*]
    queued = "[...document.querySelectorAll('.jp-CodeCell .jp-InputPrompt')].some((p) => p.textContent.includes('[*]'))"
    try:
        page.wait_for_function(queued, timeout=60_000)
    except PlaywrightTimeout:
        raise AssertionError(
            f"Run All queued no cell of {notebook}; JupyterLab reports: {page.evaluate(KERNEL_STATE, notebook)}"
        ) from None


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
    """Every length the index-th token widget's text showed (recorded by the page since Run All), once it shows `final_text`."""
    selector = f"document.querySelectorAll('.lab-token-text')[{index}]"
    try:
        page.wait_for_function(
            f"{selector} && {selector}.textContent === {json.dumps(final_text)}", timeout=timeout * 1000
        )
    except PlaywrightTimeout:
        shown = page.evaluate(f"{selector} ? {selector}.textContent : null")
        raise AssertionError(
            f"token widget {index} did not show the final text in {timeout} s; it shows {shown!r}"
        ) from None
    return page.evaluate(f"window.labWidgetLengths[{index}]")


def grew_live(lengths: list[int]) -> bool:
    """Several different partial lengths were seen: the widget updated while tokens arrived."""
    partial = {n for n in lengths if 0 < n < max(lengths)}
    return len(partial) >= 3 and lengths == sorted(lengths)


# Anything drawn over the notebook: a dialog, or a notification toast such as JupyterLab's
# "Would you like to get notified about official Jupyter news?"
COVERING = "[...document.querySelectorAll('.jp-Dialog, .Toastify__toast')].map((el) => el.innerText.replace(/\\s+/g, ' ').trim())"


def test_the_first_screen_shows_notebook_01_with_nothing_in_the_way(page, lab):
    """What `make lab` and Binder open: notebook 01, by its URL, in a JupyterLab that has just started."""
    open_notebook(page, lab, "01_generators.ipynb", url_suffix="", choose_kernel=False)
    # the news question is asked once the app has fetched its settings and announcements:
    # wait until the page has made every request of its start-up
    page.wait_for_load_state("networkidle")
    page.screenshot(path=str(ARTIFACTS / "first-screen.png"))
    assert page.evaluate(COVERING) == [], (
        "something covers the first notebook (see tests/artifacts/first-screen.png)"
    )
    title = page.locator(".jp-Notebook .jp-MarkdownOutput h1").first
    assert title.inner_text().startswith("01 · Generators"), title.inner_text()
    assert title.is_visible() and title.bounding_box()["y"] < page.viewport_size["height"] / 2


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

    frames = {
        name: next(f for f in page.frames if re.search(rf"{BASE}proxy/\d+/{name}\?autostart", f.url))
        for name in ("", "fetch")
    }
    for name, frame in frames.items():
        frame.wait_for_function("window.lab && window.lab.state === 'done'", timeout=60_000)
        assert frame.evaluate("lab.text") == reply, name
        spread = frame.evaluate("lab.arrivals[lab.arrivals.length - 1] - lab.arrivals[0]")
        # through the proxy the tokens arrived over the model's ~2 s, not in one burst at the end
        assert spread > 1000, (name, spread)
