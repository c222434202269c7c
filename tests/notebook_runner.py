"""Execute the course's notebooks for the tests: one kernel each, two passes, several notebooks at a time.

Each notebook runs in one kernel, twice: first as committed, then with every exercise's
solution loaded. The first pass is what nbval checks, so its outputs are kept the way nbval
collects them (every display, result, stream and error message of the cell) and compared with
the stored outputs by nbval's own code and `tests/sanitize.cfg`. One execution thus serves
both the nbval comparison and the run-twice test; before, nbval ran every notebook a third time.

The notebooks mostly wait (on simulated token delays, servers, timeouts), so several run at
once, in a thread of their own that starts when pytest has collected the tests and goes on while
the other tests run (tests/conftest.py puts the tests that read the runs last). The longest start
first, by the run time the committed notebook recorded in its cells' metadata when it was last
executed. A notebook that reads what earlier notebooks measured
(`evidence.load`) starts after every earlier notebook has finished, so it sees their records.
"""

from __future__ import annotations

import asyncio
import atexit
import concurrent.futures
import contextlib
import copy
import difflib
import os
import pickle
import re
import shutil
import tempfile
import threading
import time
import uuid
from collections import OrderedDict, defaultdict
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from types import SimpleNamespace

import nbformat
from jupyter_client.manager import AsyncKernelManager
from nbclient import NotebookClient
from nbformat import NotebookNode
from nbval.kernel import CURRENT_ENV_KERNEL_NAME, NbvalKernelspecManager
from nbval.plugin import (
    IPyNbCell,
    coalesce_streams,
    find_comment_markers,
    find_metadata_tags,
    get_sanitize_patterns,
    nocolors,
)
from traitlets import default

from helpers import course
from helpers.check_notebook import fresh_client

SOLUTIONS = "solutions"
CELL_TIMEOUT = 120  # seconds per cell; nbval's CI setting was 60, and a busy machine needs more
# nbval's IPyNbFile.skip_compare under --nbval without --nbdime: never compared
SKIP_COMPARE = (
    "metadata",
    "traceback",
    "prompt_number",
    "output_type",
    "name",
    "execution_count",
    "application/vnd.jupyter.widget-view+json",
    "image/png",
    "image/jpeg",
)
ANSI = re.compile(r"\x1b\[[0-9;]*m")
# Kernels at once. The notebooks mostly wait on simulated delays: all of them, four at a time, took
# about 35 s of CPU in 80 s on 2 cores (one at a time: 240 s), and passed with another core kept busy.
WORKERS = int(os.environ.get("NOTEBOOK_WORKERS", "4"))
# what `make notebooks` (nbval) runs
COURSE = [course.NOTEBOOK_DIR / course.CONTENTS] + [nb.path for nb in course.NOTEBOOKS]


def _path_without(program: str) -> str:
    """PATH without the folders that hold `program`: the kernel, and all it starts, cannot find it."""
    return os.pathsep.join(
        d for d in os.environ.get("PATH", "").split(os.pathsep) if d and not (Path(d) / program).exists()
    )


@dataclass(frozen=True)
class Variant:
    """A notebook run again, in the background with the others, in a changed environment.

    Its runs are keyed by `name` (a string), where the plain notebooks' are keyed by their path.
    `solved`: also run the second pass, with the solutions loaded.
    """

    name: str
    path: Path
    env: dict = field(hash=False)
    solved: bool = True

    def environment(self, base: dict | None, folder: Path | None) -> dict:
        env = {**(os.environ if base is None else base), **self.env}
        if folder is not None:  # evidence of its own: a variant must not feed notebook 11 different figures
            data = folder / f"evidence-{self.name.replace(' ', '-')}"
            data.mkdir(parents=True, exist_ok=True)
            env["STREAMING_LAB_DATA"] = str(data)
        return env


# What a learner's laptop may lack: the notebooks that use it must still run to the end.
VARIANTS = {
    variant.name: variant
    for variant in (
        Variant(
            "08_production without nginx",
            course.by_number("08").path,
            # helpers.nginx_proxy looks at STREAMING_LAB_NGINX, then on PATH
            {"STREAMING_LAB_NGINX": "/nonexistent/nginx", "PATH": _path_without("nginx")},
        ),
        Variant(
            "06_errors_and_resume without redis-server",
            course.by_number("06").path,
            {"PATH": _path_without("redis-server")},
            solved=False,
        ),
    )
}


def tags(cell) -> list[str]:
    return cell.metadata.get("tags", [])


def solved_cells(path: Path) -> list[NotebookNode]:
    """The notebook's cells with every exercise replaced by its solution in solutions/."""
    cells = copy.deepcopy(nbformat.read(path, as_version=4).cells)
    for cell in cells:
        if "exercise" in tags(cell):
            cell.source = (path.parent / SOLUTIONS / f"{cell.metadata['exercise']}.py").read_text(
                encoding="utf-8"
            )
    return cells


def nbval_options(cell) -> defaultdict:
    """nbval's options for a cell under --nbval: metadata tags, then comment markers (which win)."""
    options = defaultdict(bool, find_metadata_tags(cell.metadata))
    options.update(dict(find_comment_markers(cell.source)))
    options.setdefault("check", True)
    return options


def recorded_seconds(path: Path) -> float:
    """How long the committed notebook took when it was last executed, from its cells' timing metadata."""
    total = 0.0
    for cell in nbformat.read(path, as_version=4).cells:
        timing = cell.get("metadata", {}).get("execution", {})
        if "iopub.status.busy" in timing and "iopub.status.idle" in timing:
            busy, idle = (
                datetime.fromisoformat(timing[k].replace("Z", "+00:00"))
                for k in ("iopub.status.busy", "iopub.status.idle")
            )
            total += (idle - busy).total_seconds()
    return total


def reads_evidence(path: Path) -> bool:
    return any("evidence.load(" in cell.source for cell in nbformat.read(path, as_version=4).cells)


# Short, so that "<folder>/<kernel>-<n>" stays under the 107 bytes a Unix socket path may have.
KERNEL_SOCKETS = Path(tempfile.mkdtemp(prefix="nbk-"))
atexit.register(shutil.rmtree, KERNEL_SOCKETS, ignore_errors=True)


class CurrentPythonKernel(AsyncKernelManager):
    """A kernel of the Python running the tests, as nbval's --nbval-current-env starts it:
    never another interpreter's `python3` kernelspec found in the user's Jupyter folders.

    It talks over Unix sockets, not TCP ports. jupyter_client picks five free ports and the kernel
    binds them a second or so later, once its Python has started; meanwhile the tests' own servers
    and the thousands of connections of notebook 08's load tests take ephemeral ports too. One took
    a kernel's port in a make check run: the kernel failed its bind ("Address already in use"),
    hung on exit, and its notebook never ran. A socket file in a folder of our own cannot be taken.
    """

    @default("kernel_spec_manager")
    def _current_env_specs(self):
        return NbvalKernelspecManager(data_dir=self.data_dir)

    @default("transport")
    def _unix_sockets(self):
        return "ipc"

    @default("ip")
    def _socket_path_prefix(self):
        return str(KERNEL_SOCKETS / uuid.uuid4().hex[:12])


class RecordingClient(NotebookClient):
    """nbclient, also keeping each cell's outputs as nbval collects them from the kernel's messages
    (nbval ignores clear_output and update_display_data, so the comparison must see what it sees)."""

    def __init__(self, nb, **kwargs):
        super().__init__(nb, **kwargs)
        self.nbval_outputs: dict[int, list[NotebookNode]] = defaultdict(list)

    def process_message(self, msg, cell, cell_index):
        kind, content = msg["msg_type"], msg["content"]
        if kind in ("display_data", "execute_result"):
            output = NotebookNode(output_type=kind, metadata=content["metadata"], data=content["data"])
        elif kind == "stream":
            output = NotebookNode(output_type=kind, name=content["name"], text=content["text"])
        elif kind == "error":
            output = NotebookNode(
                output_type=kind,
                ename=content["ename"],
                evalue=content["evalue"],
                traceback=content["traceback"],
            )
        else:
            output = None
        if output is not None:
            self.nbval_outputs[cell_index].append(output)
        return super().process_message(msg, cell, cell_index)


@dataclass
class NotebookRun:
    path: Path
    committed: list[NotebookNode]  # the cells as stored in the file
    # executed: the committed pass, then the solved pass
    cells: list[NotebookNode] = field(default_factory=list)
    nbval_outputs: dict[int, list[NotebookNode]] = field(default_factory=dict)
    seconds: float = 0.0
    failure: str = ""  # the run itself broke: a cell timed out, the kernel died

    @property
    def half(self) -> int:
        return len(self.committed)


async def run_notebook(
    path: Path, env: dict | None = None, log: Path | None = None, solved: bool = True
) -> NotebookRun:
    """Run one notebook, both passes (the first only, without `solved`), in one kernel.

    The kernel gets `env` and writes its output to `log`.
    """
    notebook = nbformat.read(path, as_version=4)
    result = NotebookRun(path, copy.deepcopy(notebook.cells))
    first = copy.deepcopy(notebook.cells)
    for cell in first:
        if cell.cell_type == "code" and nbval_options(cell)["skip"]:
            cell.source = ""  # nbval does not run an NBVAL_SKIP cell
    notebook.cells = first + (solved_cells(path) if solved else [])
    client = fresh_client(
        RecordingClient,
        notebook,
        timeout=CELL_TIMEOUT,
        cwd=path.parent,
        kernel_manager_class=CurrentPythonKernel,
        kernel_name=CURRENT_ENV_KERNEL_NAME,
    )
    start = time.perf_counter()
    # the log file is opened once, before the kernel starts, and written by the kernel process, not this loop
    with open(log, "w") if log else contextlib.nullcontext() as output:  # noqa: ASYNC230
        launch = {"env": env} if env is not None else {}
        if output is not None:
            launch.update(stdout=output, stderr=output)
        try:
            await client.async_execute(**launch)
        except Exception as exc:  # a timeout or a dead kernel ends the run; the tests report it
            result.failure = f"{type(exc).__name__}: {exc}"
            if log:
                result.failure += (
                    f"\nthe kernel's output ends with:\n{log.read_text(errors='replace')[-2000:]}"  # noqa: ASYNC240
                )
    result.seconds = time.perf_counter() - start
    result.cells, result.nbval_outputs = notebook.cells, dict(client.nbval_outputs)
    return result


async def run_notebooks(
    paths: list[Path | str],
    order: list[Path],
    workers: int,
    env: dict | None = None,
    logs: Path | None = None,
) -> dict[Path | str, NotebookRun]:
    """Run `paths` (in course order) with at most `workers` kernels at a time; see the module's docstring.

    `order` is the whole course: a notebook that reads evidence also brings in the notebooks before it.
    A string in `paths` names a variant (VARIANTS), run beside the others.
    """
    variants = [VARIANTS[key] for key in paths if isinstance(key, str)]
    readers = [order.index(path) for path in paths if not isinstance(path, str) and reads_evidence(path)]
    paths = [path for index, path in enumerate(order) if path in paths or index < max(readers, default=0)]
    slots = asyncio.Semaphore(workers)
    finished = {path: asyncio.Event() for path in paths}
    results: dict[Path | str, NotebookRun] = {}

    async def job(path: Path) -> None:
        if order.index(path) in readers:
            for earlier in paths[: paths.index(path)]:
                await finished[earlier].wait()
        async with slots:
            results[path] = await run_notebook(path, env, logs / f"{path.stem}.log" if logs else None)
        finished[path].set()

    async def variant_job(variant: Variant) -> None:
        log = logs / f"{variant.name.replace(' ', '-')}.log" if logs else None
        async with slots:
            results[variant.name] = await run_notebook(
                variant.path, variant.environment(env, logs), log, solved=variant.solved
            )

    jobs = [(recorded_seconds(path), job(path)) for path in paths]
    jobs += [
        (recorded_seconds(variant.path) * (1 if variant.solved else 0.5), variant_job(variant))
        for variant in variants
    ]
    longest_first = [coroutine for _, coroutine in sorted(jobs, key=lambda pair: pair[0], reverse=True)]
    await asyncio.gather(*longest_first)
    return {**{path: results[path] for path in paths}, **{v.name: results[v.name] for v in variants}}


class NotebooksInBackground:
    """`run_notebooks` in a thread of its own, so the notebooks run while the tests do.

    The kernels get a snapshot of the environment taken at the start, with their own
    STREAMING_LAB_DATA: tests running meanwhile may change os.environ. With `publish`, the runs
    are also written to `folder`/runs.pickle (or the error to failed.txt) for other processes.
    """

    def __init__(
        self, paths: list[Path], order: list[Path], workers: int, folder: Path, publish: bool = False
    ):
        self.workers, self.folder, self.publish, self.started = workers, folder, publish, time.perf_counter()
        self.seconds = 0.0
        (folder / "evidence").mkdir(parents=True, exist_ok=True)
        env = {**os.environ, "STREAMING_LAB_DATA": str(folder / "evidence")}
        self._done: concurrent.futures.Future = concurrent.futures.Future()
        self._loop = self._task = None
        self._thread = threading.Thread(
            target=self._run, args=(paths, order, env), name="notebooks", daemon=True
        )
        self._thread.start()

    def _run(self, paths, order, env) -> None:
        async def main():
            self._loop, self._task = asyncio.get_running_loop(), asyncio.current_task()
            return await run_notebooks(paths, order, self.workers, env, self.folder)

        try:
            runs = asyncio.run(main())
            if self.publish:
                (self.folder / "runs.pickle.tmp").write_bytes(pickle.dumps(runs))
                os.replace(self.folder / "runs.pickle.tmp", self.folder / "runs.pickle")
            self._done.set_result(runs)
        except BaseException as exc:  # handed to whoever waits for the result
            if self.publish:
                (self.folder / "failed.txt").write_text(f"{type(exc).__name__}: {exc}")
            self._done.set_exception(exc)
        self.seconds = time.perf_counter() - self.started

    def result(self) -> dict[Path, NotebookRun]:
        return self._done.result()

    def finished_ok(self) -> bool:
        return self._done.done() and self._done.exception() is None

    def stop(self) -> None:
        """Cancel what still runs (the session ends early: -x, Ctrl-C): nbclient then shuts its kernels down."""
        if self._thread.is_alive() and self._loop is not None:
            self._loop.call_soon_threadsafe(self._task.cancel)
        self._thread.join(60)


def published_runs(
    folder: Path, start_timeout: float = 120, timeout: float = 3600
) -> dict[Path, NotebookRun]:
    """The runs another process publishes in `folder` (see NotebooksInBackground), once they are there."""
    start = time.monotonic()
    while not (folder / "runs.pickle").exists():
        waited = time.monotonic() - start
        if (folder / "failed.txt").exists():
            raise RuntimeError("the notebook runs failed: " + (folder / "failed.txt").read_text())
        if not (folder / "started").exists() and waited > start_timeout:
            raise RuntimeError(f"no notebook run started in {start_timeout:.0f} s (nothing in {folder})")
        if waited > timeout:
            raise TimeoutError(f"the notebook runs did not finish in {timeout:.0f} s")
        time.sleep(0.5)
    return pickle.loads((folder / "runs.pickle").read_bytes())


class NbvalComparison:
    """nbval's own output comparison (`IPyNbCell.compare_outputs`), outside a pytest item."""

    compare_outputs = IPyNbCell.compare_outputs
    sanitize = IPyNbCell.sanitize
    colors = nocolors

    def __init__(self, sanitize_file: Path):
        patterns = OrderedDict(get_sanitize_patterns(sanitize_file.read_text(encoding="utf-8")))
        self.parent = SimpleNamespace(skip_compare=SKIP_COMPARE, sanitize_patterns=patterns)
        self.comparison_traceback: list[str] = []

    def format_output_compare(self, key, left, right):
        diff = difflib.unified_diff(
            str(left).splitlines(),
            str(right).splitlines(),
            "stored (sanitized)",
            "this run (sanitized)",
            lineterm="",
        )
        self.comparison_traceback.append(f"mismatch in {key!r}:\n" + "\n".join(diff))


def nbval_failures(run: NotebookRun, sanitize_file: Path) -> list[str]:
    """What nbval would report for the committed pass, one entry per failing cell."""
    comparison = NbvalComparison(sanitize_file)
    failures = []
    code_number = -1
    for index, stored in enumerate(run.committed):
        if stored.cell_type != "code":
            continue
        code_number += 1
        options = nbval_options(stored)
        if options["skip"]:
            continue
        where = f"cell {index} (nbval's Cell {code_number}): {stored.source.strip().splitlines()[0][:70] if stored.source.strip() else ''!r}"
        outputs = copy.deepcopy(run.nbval_outputs.get(index, []))
        errors = [o for o in outputs if o.output_type == "error"]
        if errors and not options["check_exception"]:
            traceback = ANSI.sub("", "\n".join(errors[0].traceback))
            failures.append(f"{where}\nCell execution caused an exception:\n{traceback[-3000:]}")
            continue
        unrun = stored.get("execution_count") is None
        if unrun and stored.outputs:
            failures.append(f"{where}\nUnrun reference cell has outputs")
        elif options["check"] and not unrun:
            comparison.comparison_traceback = []
            if not comparison.compare_outputs(
                coalesce_streams(outputs), coalesce_streams(copy.deepcopy(stored.outputs))
            ):
                failures.append(
                    f"{where}\nCell outputs differ:\n" + "\n".join(comparison.comparison_traceback)
                )
    return failures
