"""Ask a real browser: Debian's Chromium, driven by Playwright, from a notebook cell.

Some facts about streams are browser rules, not HTTP ones: a browser opens at most six
HTTP/1.1 connections to one origin, and an `EventSource` holds one for as long as it
lives. Python clients do not follow that rule, so only a browser can show it.

    missing = chromium_missing()          # None, or one line saying what to install
    results = await streams_that_open([http_page, https_page], "ticks", count=8)

`STREAMING_LAB_CHROMIUM` may name the browser binary (default /usr/bin/chromium).
"""

from __future__ import annotations

import os
from pathlib import Path

__all__ = ["chromium_missing", "streams_that_open", "CHROMIUM_ARGS", "OPEN_EVENT_SOURCES"]

# Root in a container needs --no-sandbox; the rest keep a headless run quiet and offline.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]

# Page script: open `count` EventSources to `path`, wait `wait` seconds, close them, and report how
# many opened and which protocol the page itself came over ("http/1.1", "h2").
OPEN_EVENT_SOURCES = """([path, count, wait]) => new Promise((resolve) => {
    const sources = [];
    let opened = 0;
    for (let i = 0; i < count; i++) {
        const source = new EventSource(path);
        source.onopen = () => { opened++; };
        sources.push(source);
    }
    setTimeout(() => {
        sources.forEach((s) => s.close());
        const protocol = performance.getEntriesByType("navigation")[0].nextHopProtocol;
        resolve({ opened, protocol });
    }, wait * 1000);
})"""


def _binary() -> Path:
    return Path(os.environ.get("STREAMING_LAB_CHROMIUM", "/usr/bin/chromium"))


def chromium_missing() -> str | None:
    """None when Chromium and Playwright are here, else the one line to print instead."""
    if not _binary().exists():
        return f"Chromium is not installed here ({_binary()}); install it with `sudo apt-get install chromium` (the lesson goes on without it)."
    try:
        import playwright.async_api  # noqa: F401
    except ImportError:
        return "Playwright is not installed here; install it with `pip install playwright` (the lesson goes on without it)."
    return None


async def streams_that_open(
    page_urls: list[str], stream_path: str, *, count: int = 8, wait: float = 3.0
) -> list[dict]:
    """From each page in turn, open `count` EventSources to `stream_path` and count those that opened.

    Returns, per page, {"opened": n, "protocol": the page's HTTP version as Chromium saw it}.
    One browser serves all the pages. Certificate errors are ignored, so a self-signed
    HTTPS proxy works.
    """
    from playwright.async_api import async_playwright

    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(
            executable_path=str(_binary()), headless=True, args=CHROMIUM_ARGS
        )
        try:
            context = await browser.new_context(ignore_https_errors=True)
            return [
                await _open_from(await context.new_page(), url, stream_path, count, wait) for url in page_urls
            ]
        finally:
            await browser.close()


async def _open_from(page, page_url: str, stream_path: str, count: int, wait: float) -> dict:
    try:
        await page.goto(page_url)
        return await page.evaluate(OPEN_EVENT_SOURCES, [stream_path, count, wait])
    finally:
        await page.close()
