"""`make bench`: what streaming costs here, measured, written to tests/benchmarks/RESULTS.md.

Sections:
  1. four SSE server paths on loopback, the client in a separate process: events/s, time to
     first byte over the producer's first-token delay, where the suite's path spends more
     than the floor, and peak server memory of a large response streamed against buffered;
  2. concurrent streams on one worker, 10 to 1,000: event latency, memory per stream, CPU;
  3. proxy overhead: first byte and event latency through nginx (unbuffered) against direct;
  4. end to end: first token visible in JupyterLab's widget after Run, measured in Chromium;
  5. the whole suite: `make unit`, `make notebook-tests` and `make test`, wall time;
  6. how fast a cancelled client stops the model, against the 100 ms target (cancellation.py);
  7. sizing: every notebook in order as a student runs them, peak memory, CPU and ports of the kernel
     and its child processes, and what a class of 30, 100 and 500 needs on a JupyterHub (sizing.py).

    python -m tests.benchmarks.run              every section (`make bench`)
    python -m tests.benchmarks.run --only 1 3   those sections; the others keep their last results

Run as a module from the repository's root, so it imports the test helpers it reuses (the browser
tests' Chromium settings and JupyterLab driver) as the package they are.

Medians of several runs; ratios are against the raw ASGI floor.
"""

from __future__ import annotations

import argparse
import os
import platform
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from . import concurrent_streams, proxy_overhead, server_paths, sizing
from .cancellation import cancellation_section

ROOT = Path(__file__).resolve().parents[2]

RUNS = 5
RESULTS = ROOT / "tests" / "benchmarks" / "RESULTS.md"


def server_paths_section() -> list[str]:
    return [
        f"{server_paths.EVENTS:,} small `token` events per response. The server runs in a thread of the benchmark process, which only waits meanwhile; "
        "the client (`raw_client.py`) is a separate process that reads raw bytes, taking the servers in turn. Wall-clock rates move with whatever else "
        "the machine runs (this one is shared); the CPU time of the server's own thread barely does, so compare the CPU columns.",
        "",
        *server_paths.rows(),
        "",
        "Where each path's own time goes: the ASGI app called in-process with a `send` that does nothing (no server, no socket), "
        "so only the path's own per-event work is left:",
        "",
        *server_paths.per_event_costs(),
    ]


def first_token_in_jupyterlab() -> list[str]:
    """Re-run notebook 01's widget cell in JupyterLab and time the first token on screen."""
    from playwright.sync_api import sync_playwright

    from ..browser.conftest import ARGS, CHROMIUM
    from ..browser.lab_server import jupyterlab
    from ..browser.test_jupyterlab import run_all, wait_until_done

    samples = []
    with tempfile.TemporaryDirectory() as tmp, jupyterlab(Path(tmp)) as url, sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=ARGS)
        page = browser.new_page()
        page.set_default_timeout(60_000)
        run_all(page, url, "01_generators.ipynb")
        wait_until_done(page)
        cell = page.locator(".jp-CodeCell", has=page.locator(".lab-token-view")).first
        for _ in range(RUNS):
            cell.locator(".jp-InputArea-editor").click()
            started = page.evaluate("performance.now()")
            page.keyboard.press("Control+Enter")
            # the old widget goes (outputs are cleared on Run), the new one starts empty, then types
            page.wait_for_function(
                "() => { const el = document.querySelector('.lab-token-text'); return !el || el.textContent.length === 0; }",
                polling=5,
            )
            page.wait_for_function(
                "() => { const el = document.querySelector('.lab-token-text'); return el && el.textContent.length > 0; }",
                polling=5,
            )
            samples.append(page.evaluate("performance.now()") - started)
            page.wait_for_function(
                "document.querySelector('.lab-token-view').textContent.includes('12 tokens')"
            )
            page.wait_for_timeout(500)
        browser.close()
    return [
        f"| measurement | median of {RUNS} |",
        "|---|---:|",
        f"| first token visible in the widget after Run (the simulated model's first token is due at 80 ms) | {statistics.median(samples):.0f} ms |",
    ]


# A figure from before the notebook runner, kept for comparison (it cannot be measured again).
HISTORY = (
    "Before the notebook runner, each notebook ran three times (nbval, unsolved, solved) "
    "and `make test` took 447 s (measured on 2026-11-25)."
)


def suite_times() -> list[str]:
    """Wall time of the test targets, each run as a developer runs it (`make test` includes the other two)."""

    def timed(target):
        start = time.perf_counter()
        done = subprocess.run(["make", target], cwd=ROOT, capture_output=True, text=True)
        if done.returncode != 0:
            sys.exit(f"make {target} failed; its output ends with:\n{(done.stdout + done.stderr)[-4000:]}")
        return time.perf_counter() - start

    workers = os.environ.get("NOTEBOOK_WORKERS", "4")
    runs = [
        ("make unit", "unit tests only"),
        (
            "make notebook-tests",
            f"every notebook twice in one kernel, outputs compared as nbval compares them; {workers} at a time",
        ),
        ("make test", "everything: unit, notebooks, browser"),
    ]
    # the machine is shared: the load before each run says whether a slow figure is ours
    rows = ["| run | what | wall time | load average before |", "|---|---|---:|---:|"]
    for command, what in runs:
        load = os.getloadavg()[0]
        rows.append(f"| `{command}` | {what} | {timed(command.split()[1]):.0f} s | {load:.1f} |")
    return [*rows, "", HISTORY]


SECTIONS = {  # number: (title, function returning the section's lines)
    "1": ("Server paths on loopback", server_paths_section),
    "2": ("Concurrent streams on one worker", concurrent_streams.rows),
    "3": ("Proxy overhead: nginx, unbuffered, against direct", proxy_overhead.rows),
    "4": ("End to end in JupyterLab", first_token_in_jupyterlab),
    "5": ("The whole suite", suite_times),
    # without its own heading
    "6": ("Cancellation: a stopped client stops the model", lambda: cancellation_section()[2:]),
    "7": ("Sizing: what a student and a class need", sizing.rows),
}


def machine() -> str:
    cpu = next(
        (
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if line.startswith("model name")
        ),
        platform.processor(),
    )
    return f"{cpu}, {os.cpu_count()} cores, {platform.system()} {platform.release()}, Python {platform.python_version()}"


def previous_sections() -> dict[str, list[str]]:
    """The sections of the last RESULTS.md, by title, each with its lines (its date line included)."""
    if not RESULTS.exists():
        return {}
    text = RESULTS.read_text()
    # Files written before sections carried their own date have one date, in the header.
    header_date = re.search(r"Generated by `make bench` on (\S+?)\.", text)
    found, title = {}, None
    for line in text.splitlines():
        if line.startswith("## "):
            title = re.sub(r"^## \d+\. ", "", line)
            found[title] = []
        elif title is not None:
            found[title].append(line)
    for lines in found.values():
        if header_date and not any(line.startswith("_Measured on") for line in lines):
            lines[:0] = ["", f"_Measured on {header_date.group(1)}._"]
    return found


def main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(description="Measure, and write tests/benchmarks/RESULTS.md.")
    parser.add_argument(
        "--only",
        nargs="+",
        choices=sorted(SECTIONS),
        help="run these sections; keep the others' last results",
    )
    options = parser.parse_args(argv)
    chosen = options.only or list(SECTIONS)
    old = previous_sections()
    today = time.strftime("%Y-%m-%d")
    lines = [
        "# Benchmark results",
        "",
        f"Written by `make bench`. Machine: {machine()}. Each section says when it was measured.",
        "",
    ]
    for number, (title, measure) in SECTIONS.items():
        lines.append(f"## {number}. {title}")
        if number in chosen:
            print(f"measuring section {number}: {title}", flush=True)
            lines += ["", f"_Measured on {today}._", "", *measure(), ""]
        elif title in old:
            lines += old[title]
        else:
            lines += [
                "",
                "_Not measured yet: run `python -m tests.benchmarks.run --only " + number + "`._",
                "",
            ]
    RESULTS.write_text("\n".join(lines).rstrip("\n") + "\n")
    summarise_in_readme(lines)
    print(RESULTS.read_text())


def summarise_in_readme(lines: list[str]) -> None:
    """Replace what follows the README's bench marker with these results, headings demoted."""
    readme = ROOT / "README.md"
    marker = "<!-- bench-summary -->"
    head = readme.read_text().split(marker)[0]
    body = [line.replace("## ", "#### ", 1) if line.startswith("## ") else line for line in lines[2:]]
    readme.write_text(head + marker + "\n" + "\n".join(body).rstrip("\n") + "\n")


if __name__ == "__main__":
    main(sys.argv[1:])
