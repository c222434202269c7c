"""Browser tests: Playwright driving Debian's Chromium (Playwright cannot download its own here)."""

import os
import shutil
from pathlib import Path

import pytest

CHROMIUM = Path("/usr/bin/chromium")
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
ARTIFACTS = Path(__file__).resolve().parent.parent / "artifacts"


@pytest.fixture(scope="module")  # per module: Playwright's sync API holds an event loop while it runs
def browser():
    if not CHROMIUM.exists():
        pytest.fail(
            "Chromium is missing at /usr/bin/chromium. Install Debian's package: "
            "`sudo apt-get install chromium` (.ci/run does this on CI).",
            pytrace=False,
        )
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=ARGS)
        yield browser
        browser.close()


@pytest.fixture
def page(browser, request):
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.set_default_timeout(30_000)
    yield page
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{request.node.name}.png"), full_page=True)
    context.close()


@pytest.fixture(scope="session", autouse=True)
def isolated_evidence(tmp_path_factory):
    os.environ["STREAMING_LAB_DATA"] = str(tmp_path_factory.mktemp("evidence"))
    yield
    shutil.rmtree(os.environ.pop("STREAMING_LAB_DATA"), ignore_errors=True)
