"""The requirements split: the course's own (requirements.txt, all Binder installs) and the dev tools on top.

Every third-party module that a notebook, a solution or the helpers package imports must come from a
distribution that requirements.txt installs (named there, or a dependency of one), so the lean Binder
image runs every notebook. Modules imported only when present, with a one-line fallback, are listed in
OPTIONAL with the reason, and must never be imported at the top of a module or a cell.
"""

from __future__ import annotations

import ast
import re
import sys
from functools import cache
from importlib import metadata
from pathlib import Path

import nbformat
from IPython.core.inputtransformer2 import TransformerManager
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parent.parent
COURSE = ROOT / "requirements.txt"
DEV = ROOT / "requirements-dev.txt"
BINDER = ROOT / "binder" / "requirements.txt"
TEST_ONLY = {"pytest", "pytest-xdist", "nbval", "playwright", "ruff", "nbdime", "pytest-timeout", "coverage"}
FIRST_PARTY = {"helpers"}
# import name: why the course runs without it (the notebook prints one line and goes on)
OPTIONAL = {
    "playwright": "notebooks 06 and 08 drive Chromium when it is installed; helpers.chromium.chromium_missing() says what to install",
    "cryptography": "helpers.nginx_proxy makes its certificate with the openssl command when cryptography is missing",
}


def requirement_lines(path: Path) -> list[str]:
    """The requirement specifiers of a file, following `-r other.txt` relative to it."""
    found = []
    for line in path.read_text().splitlines():
        line = line.split("#", 1)[0].strip()
        if line.startswith("-r"):
            found += requirement_lines(path.parent / line[2:].strip())
        elif line:
            found.append(line)
    return found


def names(path: Path) -> set[str]:
    return {canonicalize_name(Requirement(line).name) for line in requirement_lines(path)}


@cache
def closure(roots: frozenset[str]) -> frozenset[str]:
    """The distributions these install: themselves and their dependencies (no extras), as installed here."""
    seen, todo = set(), list(roots)
    while todo:
        name = todo.pop()
        if name in seen:
            continue
        seen.add(name)
        try:
            requires = metadata.requires(name) or []
        except metadata.PackageNotFoundError:
            continue
        for spec in requires:
            requirement = Requirement(spec)
            if requirement.marker is None or requirement.marker.evaluate({"extra": ""}):
                todo.append(canonicalize_name(requirement.name))
    return frozenset(seen)


def python_of_cell(source: str) -> str:
    """A code cell as Python, magics (`%load`, `!pip`) turned into calls, as IPython runs it."""
    return TransformerManager().transform_cell(source)


def imports(source: str) -> list[tuple[str, bool]]:
    """(top-level module name, imported at module level) for every absolute import in the source."""
    tree = ast.parse(source)
    nested = {
        id(node)
        for parent in ast.walk(tree)
        if isinstance(parent, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Try))
        for node in ast.walk(parent)
        if node is not parent
    }
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(alias.name.split(".")[0], id(node) not in nested) for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.append((node.module.split(".")[0], id(node) not in nested))
    return found


def course_sources() -> dict[str, str]:
    """Every piece of Python a student's kernel runs: notebook cells, solutions, the helpers package."""
    sources = {}
    for path in sorted((ROOT / "notebooks").rglob("*.ipynb")):
        if ".ipynb_checkpoints" in path.parts:
            continue
        for index, cell in enumerate(nbformat.read(path, as_version=4).cells):
            if cell.cell_type == "code":
                sources[f"{path.relative_to(ROOT)} cell {index}"] = python_of_cell(cell.source)
    for path in sorted([*(ROOT / "helpers").rglob("*.py"), *(ROOT / "notebooks").rglob("*.py")]):
        sources[str(path.relative_to(ROOT))] = path.read_text(encoding="utf-8")
    return sources


def uncovered(sources: dict[str, str], requirements: set[str]) -> list[str]:
    """Each third-party import whose distribution the requirements do not install, with where it is."""
    installed = closure(frozenset(requirements))
    distributions = metadata.packages_distributions()
    problems = []
    for where, source in sources.items():
        for module, top_level in imports(source):
            if module in sys.stdlib_module_names or module in FIRST_PARTY or module == "__future__":
                continue
            if module in OPTIONAL:
                if top_level:
                    problems.append(
                        f"{where}: optional `{module}` imported at top level; import it inside the function that falls back without it"
                    )
                continue
            dists = {canonicalize_name(d) for d in distributions.get(module, [])}
            if not dists & installed:
                problems.append(
                    f"{where}: `{module}` ({', '.join(sorted(dists)) or 'not installed here'}) is not installed by requirements.txt"
                )
    return problems


def test_every_import_of_the_course_is_installed_by_the_binder_requirements():
    assert names(BINDER) == names(COURSE)
    problems = uncovered(course_sources(), names(BINDER))
    assert not problems, "\n".join(problems)


def test_the_check_finds_a_missing_distribution_and_an_optional_import_at_top_level():
    sources = {
        "cell": "import numpy as np\nfrom pytest import raises\nimport httpx\nimport helpers.sse\n",
        "module": "import playwright\ndef f():\n    import playwright.async_api\n",
    }
    problems = uncovered(sources, names(BINDER))
    assert [p.split("`")[1] for p in problems] == ["pytest", "playwright"], (
        problems
    )  # numpy comes with matplotlib
    assert "`pytest` (pytest)" in problems[0]


def test_magics_are_read_as_ipython_runs_them():
    assert imports(python_of_cell("%load solutions/01_x.py\n!pip list\nimport httpx_sse")) == [
        ("httpx_sse", True)
    ]


def test_binder_installs_no_test_tool_and_the_dev_set_adds_them_on_top_of_the_course():
    assert not names(BINDER) & TEST_ONLY
    assert not names(COURSE) & TEST_ONLY
    first = next(
        line.strip() for line in DEV.read_text().splitlines() if line.strip() and not line.startswith("#")
    )
    assert first == "-r requirements.txt", (
        "requirements-dev.txt must start from the course's requirements, so the two cannot drift"
    )
    assert {"pytest", "nbval", "playwright"} <= names(DEV) - names(COURSE)


def test_make_install_installs_the_dev_set_and_reinstalls_when_either_file_changes():
    makefile = (ROOT / "Makefile").read_text()
    stamp = re.search(r"^\$\(STAMP\):(.*)$", makefile, re.M)
    assert stamp and {"requirements.txt", "requirements-dev.txt"} <= set(stamp.group(1).split())
    assert "-r requirements-dev.txt" in makefile
