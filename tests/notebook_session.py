"""When a pytest session runs the notebooks, and how the tests that check them get the runs.

The runs (tests/notebook_runner.py) start as soon as the tests are collected and go on while the
other tests run; the tests that read them (through the `notebook_runs` fixture) are ordered last.

- One pytest process: the runs go in a thread of that process, started when collection ends.
- pytest-xdist (`make test` runs `pytest -n 2`): the controller, which runs no test itself, runs
  them, started when the first worker has collected the tests. Workers write which notebooks
  their selected tests need to a folder they share with the controller (its path is in
  STREAMING_LAB_NOTEBOOK_RUNS), and read the runs back from it as a pickle.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from pathlib import Path

import pytest

from .notebook_runner import COURSE, VARIANTS, WORKERS, NotebooksInBackground, published_runs

USES_RUNS = "notebook_runs"  # the fixture through which tests read the runs
SHARED = "STREAMING_LAB_NOTEBOOK_RUNS"
BACKGROUND = pytest.StashKey[NotebooksInBackground]()
FOLDER = pytest.StashKey[Path]()


def is_worker(config) -> bool:
    return hasattr(config, "workerinput")


def is_controller(config) -> bool:
    return (
        not is_worker(config)
        and getattr(config.option, "dist", "no") != "no"
        and bool(getattr(config.option, "tx", None))
    )


def wanted(items) -> list[Path]:
    """The notebooks whose runs the selected tests read."""
    paths = []
    for item in items:
        path = getattr(item, "callspec", None) and item.callspec.params.get("path")
        if USES_RUNS in getattr(item, "fixturenames", ()) and path and path not in paths:
            paths.append(path)
    return paths


def configure(config) -> None:
    if is_controller(config) and not config.option.collectonly:
        folder = config.stash[FOLDER] = Path(tempfile.mkdtemp(prefix="streaming-lab-notebooks-"))
        os.environ[SHARED] = str(folder)  # the workers, started after this, inherit it


def collected(config, items) -> None:
    """After deselection: readers of the runs last; an xdist worker says which notebooks it needs."""
    items.sort(key=lambda item: USES_RUNS in getattr(item, "fixturenames", ()))
    if is_worker(config) and SHARED in os.environ:
        folder = Path(os.environ[SHARED])
        partial = folder / f"wanted.{os.getpid()}.tmp"
        partial.write_text(json.dumps([str(path) for path in wanted(items)]))
        os.replace(partial, folder / "wanted.json")


def start(config, paths: list[Path], folder: Path, publish: bool) -> None:
    if paths:
        config.stash[BACKGROUND] = NotebooksInBackground(paths, COURSE, WORKERS, folder, publish=publish)
        (folder / "started").touch()


def collection_finished(session) -> None:
    """One pytest process: start the runs in a thread of this process."""
    if (
        not is_worker(session.config)
        and not is_controller(session.config)
        and not session.config.option.collectonly
    ):
        start(
            session.config,
            wanted(session.items),
            Path(tempfile.mkdtemp(prefix="streaming-lab-notebooks-")),
            publish=False,
        )


def worker_collected(config) -> None:
    """xdist's controller: the first worker has collected; start the runs it asked for, once."""
    if FOLDER in config.stash and BACKGROUND not in config.stash:
        folder = config.stash[FOLDER]
        paths = (
            [
                key if key in VARIANTS else Path(key)
                for key in json.loads((folder / "wanted.json").read_text())
            ]
            if (folder / "wanted.json").exists()
            else []
        )
        start(config, paths, folder, publish=True)


def runs(config) -> dict:
    if is_worker(config):
        return published_runs(Path(os.environ[SHARED]))
    return config.stash[BACKGROUND].result()


def finish(config) -> None:
    background = config.stash.get(BACKGROUND, None)
    if background is not None:
        background.stop()
    if not is_worker(config):
        folder = config.stash.get(FOLDER, None) or (background.folder if background else None)
        if folder is not None:
            shutil.rmtree(folder, ignore_errors=True)


def summary(config) -> str | None:
    """Each notebook's run time, slowest first, once the runs are done."""
    background = config.stash.get(BACKGROUND, None)
    if background is None or not background.finished_ok():
        return None
    each = ", ".join(
        f"{getattr(path, 'stem', path)} {run.seconds:.0f} s"
        + ("" if isinstance(path, Path) or VARIANTS[path].solved else " (first pass only)")
        for path, run in sorted(background.result().items(), key=lambda item: -item[1].seconds)
    )
    return f"notebooks ran in {background.seconds:.0f} s, {background.workers} at a time, beside the other tests; each, both passes: {each}"
