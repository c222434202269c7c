"""Check a student's notebook as a teacher would: run it in a fresh kernel and report every exercise.

    python -m helpers.check_notebook path/to/student/04_llm_streaming.ipynb [more.ipynb ...]
    make check-notebook NB=path/to/student.ipynb

Each exercise of the course is a cell tagged `exercise` followed by a check cell tagged `check`.
The notebook runs top to bottom in a new kernel, as "Restart Kernel and Run All Cells" would, in its own
folder (so `solutions/`, `capstone/` and the pages resolve as they do for the student; pass --cwd for
a notebook kept elsewhere, e.g. the course's `notebooks/` folder). Nothing is written back to the file.

For each exercise it prints one line: `solved`, `not solved` with the check's hint (what it observed
against what it expected), or `error` with the exception. Cells that fail without being meant to (not
tagged `raises-exception`) are listed too, since they usually explain an unsolved exercise below them.

Exit status: 0 when every exercise is solved, 1 when one is not, 2 when the notebook could not run
to the end (a timeout or a kernel that died).
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from dataclasses import dataclass, field
from pathlib import Path

__all__ = ["ExerciseResult", "Report", "check_notebook", "main"]

CELL_TIMEOUT = (
    300  # seconds; the capstone's grader and notebook 08's load tests take a while on a busy machine
)


@dataclass
class ExerciseResult:
    name: str  # the exercise cell's metadata "exercise", e.g. "04_relay_usage"
    status: str  # solved, not solved, error, not run
    detail: str = ""

    def line(self) -> str:
        return f"{self.name}: {self.status}" + (f": {self.detail}" if self.detail else "")


@dataclass
class Report:
    path: Path
    exercises: list[ExerciseResult] = field(default_factory=list)
    unexpected: list[str] = field(default_factory=list)  # cells that failed without being meant to
    stopped: str | None = None  # why the run ended early

    @property
    def exit_status(self) -> int:
        if self.stopped:
            return 2
        return 0 if all(e.status == "solved" for e in self.exercises) else 1

    def lines(self) -> list[str]:
        solved = sum(e.status == "solved" for e in self.exercises)
        out = [f"{self.path}: {solved} of {len(self.exercises)} exercises solved"]
        out += [f"  {e.line()}" for e in self.exercises]
        out += [f"  failed unexpectedly: {cell}" for cell in self.unexpected]
        if self.stopped:
            out.append(f"  the run stopped early: {self.stopped}")
        return out


def _kernel_manager_class():
    """A kernel of the Python running this command (the course's environment), whatever kernelspecs
    the user's Jupyter folders hold: the notebooks use the `python3` kernelspec, and so does this."""
    import ipykernel.kernelspec
    from jupyter_client.kernelspec import KernelSpecManager
    from jupyter_client.manager import AsyncKernelManager
    from traitlets import default

    class CurrentPython(KernelSpecManager):
        def get_kernel_spec(self, kernel_name):
            return self.kernel_spec_class(
                resource_dir=ipykernel.kernelspec.RESOURCES, **ipykernel.kernelspec.get_kernel_dict()
            )

    class Manager(AsyncKernelManager):
        @default("kernel_spec_manager")
        def _current_python(self):
            return CurrentPython(data_dir=self.data_dir)

    return Manager


def _tags(cell) -> list[str]:
    return cell.get("metadata", {}).get("tags", [])


def _errors(cell) -> list[dict]:
    return [o for o in cell.get("outputs", []) if o.get("output_type") == "error"]


def fresh_client(
    client_class, nb, *, timeout: int, cwd: Path, kernel_manager_class, kernel_name: str = "python3"
):
    """An nbclient of `client_class` for `nb`, its code cells' stored outputs cleared, that runs in the
    folder `cwd` and goes on past an error: a failing check is a result to report, not the end of the run.
    The course's test runner builds its clients with this too."""
    for cell in nb.cells:
        if cell.cell_type == "code":
            cell.outputs = []
    return client_class(
        nb,
        timeout=timeout,
        kernel_name=kernel_name,
        kernel_manager_class=kernel_manager_class,
        allow_errors=True,
        resources={"metadata": {"path": str(cwd)}},
    )


def check_notebook(path: Path, cwd: Path | None = None, timeout: int = CELL_TIMEOUT) -> Report:
    """Run the notebook at `path` in a fresh kernel and report each exercise's check."""
    import nbformat
    from nbclient import NotebookClient
    from nbclient.exceptions import CellTimeoutError, DeadKernelError

    path = Path(path)
    nb = nbformat.read(path, as_version=4)
    client = fresh_client(
        NotebookClient,
        nb,
        timeout=timeout,
        cwd=cwd or path.parent,
        kernel_manager_class=_kernel_manager_class(),
    )
    report = Report(path)
    ran = -1

    async def run() -> None:
        nonlocal ran
        async with client.async_setup_kernel():
            for index, cell in enumerate(nb.cells):
                await client.async_execute_cell(cell, index)
                ran = index

    try:
        asyncio.run(run())
    except (CellTimeoutError, DeadKernelError) as exc:
        report.stopped = f"cell {ran + 1}: {type(exc).__name__}: {str(exc).strip().splitlines()[0] if str(exc).strip() else ''}"

    exercise = None
    for index, cell in enumerate(nb.cells):
        if cell.cell_type != "code":
            continue
        if "exercise" in _tags(cell):
            exercise = cell.metadata.get("exercise", f"cell {index}")
        errors = _errors(cell)
        if "check" in _tags(cell):
            name = exercise or f"check in cell {index}"
            if index > ran:
                result = ExerciseResult(name, "not run")
            elif not errors:
                result = ExerciseResult(name, "solved")
            elif errors[0]["ename"] == "NotSolvedYet":
                result = ExerciseResult(name, "not solved", errors[0]["evalue"])
            else:
                result = ExerciseResult(name, "error", f"{errors[0]['ename']}: {errors[0]['evalue']}")
            report.exercises.append(result)
            exercise = None
        elif errors and "raises-exception" not in _tags(cell):
            report.unexpected.append(f"cell {index}: {errors[0]['ename']}: {errors[0]['evalue'][:200]}")
    return report


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m helpers.check_notebook",
        description="Run students' notebooks and report every exercise.",
    )
    parser.add_argument("notebooks", nargs="+", type=Path)
    parser.add_argument("--cwd", type=Path, help="run in this folder (default: the notebook's own folder)")
    parser.add_argument(
        "--timeout", type=int, default=CELL_TIMEOUT, help=f"seconds per cell (default {CELL_TIMEOUT})"
    )
    options = parser.parse_args(argv)
    status = 0
    for path in options.notebooks:
        report = check_notebook(path, options.cwd, options.timeout)
        print("\n".join(report.lines()), flush=True)
        status = max(status, report.exit_status)
    return status


if __name__ == "__main__":
    sys.exit(main())
