"""What one student needs, measured: every notebook run in order, as a student runs them in one session.

One kernel per notebook, started fresh and shut down at the end (as a student who closes each
notebook's kernel before opening the next); the notebook starts and stops its own servers (uvicorn in
the kernel, Redis, nginx, relay replicas, Chromium) as it does for a student. Meanwhile psutil samples,
every SAMPLE seconds, the kernel and every process under it:

    memory   peak RSS of the kernel alone, and of the kernel with all its child processes (the sum of
             their RSS: shared pages are counted in each process, so this overstates a little, the
             safe side for a memory limit)
    CPU      peak cores over one sampling interval, and the mean over the notebook's run
    ports    peak number of TCP ports the tree listens on at once, and which programs it started
    tokens   what the embedded model counted (prompt + completion, the usage it reports like the real
             API) for the requests the kernel's model served; relay replicas in their own processes
             have their own model and are not counted

JupyterLab's own server is measured once, idle after start, and added for a student's total.

    python tests/benchmarks/sizing.py         measure, print the table, rewrite the docs (run.py's section 7 also writes RESULTS.md)
    python tests/benchmarks/sizing.py --docs  rewrite the docs from the last measurement (sizing.json), e.g. after a title changed
"""

from __future__ import annotations

import json
import math
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import nbformat
import psutil

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from helpers import course  # noqa: E402

SAMPLE = 0.25  # seconds between samples
CELL_TIMEOUT = 300
MB = 1024 * 1024
BROWSER = ("chrom", "node")  # Chromium's processes and Playwright's driver (node), which Binder does not have
HEADROOM = (
    1.25  # the memory limit over the measured peak: another Python version, a larger reply, a re-run cell
)
CLASSES = (30, 100, 500)
RESULTS_JSON = ROOT / "tests" / "benchmarks" / "sizing.json"  # the figures, for docs and tests to quote
PRICE = {
    "input": 0.15,
    "output": 0.60,
}  # USD per million tokens; gpt-4o-mini's list price, an assumption to update

# Run in the kernel first: count what the embedded model serves (a record ends once, whatever its outcome).
COUNT_TOKENS = """
import helpers.embedded_model as _sizing_model
_sizing_usage = _sizing_model.__dict__.setdefault("_sizing_usage", {"prompt": 0, "completion": 0, "requests": 0})
_sizing_end = _sizing_model.RequestRecord.end
def _sizing_counting_end(self, status, _end=_sizing_end, _usage=_sizing_usage):
    first = self.ended is None
    _end(self, status)
    if first:
        _usage["prompt"] += self.prompt_tokens
        _usage["completion"] += self.tokens_sent
        _usage["requests"] += 1
_sizing_model.RequestRecord.end = _sizing_counting_end
"""
REPORT_TOKENS = (
    "import helpers.embedded_model as _m, json; print('SIZING-USAGE ' + json.dumps(_m._sizing_usage))"
)


@dataclass
class Peaks:
    kernel_rss: int = 0
    tree_rss: int = 0
    tree_pss: int = 0
    browserless_pss: int = 0
    cores: float = 0.0
    ports: int = 0
    programs: set[str] = field(default_factory=set)
    all_ports: set[int] = field(default_factory=set)


class Sampler(threading.Thread):
    """Samples a process and its descendants until stopped."""

    def __init__(self, pid: int) -> None:
        super().__init__(daemon=True)
        self.root = psutil.Process(pid)
        self.peaks = Peaks()
        # pid: its own CPU seconds at its last sample (a process that exits keeps its last figure). Only a
        # process's own time: the kernel's children_user would add a reaped child's whole life at once.
        self.cpu_seen: dict[int, float] = {}
        self.stop = threading.Event()

    def tree(self) -> list[psutil.Process]:
        try:
            return [self.root, *self.root.children(recursive=True)]
        except psutil.NoSuchProcess:
            return []

    def sample(self) -> float:
        """Take one sample; return the tree's CPU seconds so far."""
        rss, pss, browserless, ports = 0, 0, 0, set()
        for process in self.tree():
            try:
                with process.oneshot():
                    memory = (
                        process.memory_full_info()
                    )  # rss, and pss: shared pages divided among the processes sharing them
                    times = process.cpu_times()
                    self.cpu_seen[process.pid] = times.user + times.system
                    if process.pid == self.root.pid:
                        self.peaks.kernel_rss = max(self.peaks.kernel_rss, memory.rss)
                    else:
                        self.peaks.programs.add(process.name())
                    rss += memory.rss
                    pss += memory.pss
                    if not process.name().startswith(BROWSER):
                        browserless += memory.pss
                    ports |= {
                        c.laddr.port
                        for c in process.net_connections(kind="tcp")
                        if c.status == psutil.CONN_LISTEN
                    }
            except (psutil.NoSuchProcess, psutil.AccessDenied, psutil.ZombieProcess):
                continue
        self.peaks.tree_rss = max(self.peaks.tree_rss, rss)
        self.peaks.tree_pss = max(self.peaks.tree_pss, pss)
        self.peaks.browserless_pss = max(self.peaks.browserless_pss, browserless)
        self.peaks.ports = max(self.peaks.ports, len(ports))
        self.peaks.all_ports |= ports
        return sum(self.cpu_seen.values())

    def run(self) -> None:
        cpu, at = self.sample(), time.monotonic()
        while not self.stop.wait(SAMPLE):
            now_cpu, now = self.sample(), time.monotonic()
            self.peaks.cores = max(self.peaks.cores, (now_cpu - cpu) / (now - at))
            cpu, at = now_cpu, now

    def cpu_seconds(self) -> float:
        return sum(self.cpu_seen.values())


@dataclass
class NotebookSize:
    number: str
    title: str
    seconds: float
    cpu_seconds: float
    kernel_mb: float
    tree_mb: float  # peak sum of RSS
    tree_pss_mb: float  # peak sum of PSS: what the processes really hold together, what a memory limit sees
    browserless_pss_mb: (
        float  # the same without Chromium and Playwright's driver: what Binder (no Chromium) needs
    )
    peak_cores: float
    ports: int
    programs: list[str]
    prompt_tokens: int
    completion_tokens: int
    model_requests: int
    failed_cells: int

    @property
    def mean_cores(self) -> float:
        return self.cpu_seconds / self.seconds if self.seconds else 0.0


def run_notebook(notebook: course.Notebook, env: dict[str, str], log: Path) -> NotebookSize:
    """Run one notebook top to bottom in a fresh kernel, sampled throughout."""
    from nbclient import NotebookClient
    from nbval.kernel import CURRENT_ENV_KERNEL_NAME

    from tests.notebook_runner import CurrentPythonKernel

    nb = nbformat.read(notebook.path, as_version=4)
    nb.cells.insert(0, nbformat.v4.new_code_cell(COUNT_TOKENS))
    nb.cells.append(nbformat.v4.new_code_cell(REPORT_TOKENS))
    client = NotebookClient(
        nb,
        timeout=CELL_TIMEOUT,
        kernel_name=CURRENT_ENV_KERNEL_NAME,
        kernel_manager_class=CurrentPythonKernel,
        allow_errors=True,
        resources={"metadata": {"path": str(notebook.path.parent)}},
    )
    failed = 0
    started = time.monotonic()
    sampler = None

    async def execute():
        nonlocal sampler, failed
        with open(log, "w") as output:  # noqa: ASYNC230 (opened once, before the kernel starts)
            async with client.async_setup_kernel(env=env, stdout=output, stderr=output):
                sampler = Sampler(client.km.provisioner.pid)
                sampler.start()
                for index, cell in enumerate(nb.cells):
                    await client.async_execute_cell(cell, index)
                    if any(
                        o.get("output_type") == "error" for o in cell.get("outputs", [])
                    ) and "raises-exception" not in cell.metadata.get("tags", []):
                        failed += 1
                        print(
                            f"    {notebook.filename} cell {index - 1} failed: {cell.outputs[-1].get('ename')}",
                            flush=True,
                        )
                sampler.stop.set()
                sampler.join()

    import asyncio

    asyncio.run(execute())
    seconds = time.monotonic() - started
    usage = {"prompt": 0, "completion": 0, "requests": 0}
    for output in nb.cells[-1].get("outputs", []):
        for line in output.get("text", "").splitlines():
            if line.startswith("SIZING-USAGE "):
                usage = json.loads(line.split(" ", 1)[1])
    peaks = sampler.peaks
    return NotebookSize(
        notebook.number,
        notebook.title,
        seconds,
        sampler.cpu_seconds(),
        peaks.kernel_rss / MB,
        peaks.tree_rss / MB,
        peaks.tree_pss / MB,
        peaks.browserless_pss / MB,
        peaks.cores,
        peaks.ports,
        sorted(peaks.programs),
        usage["prompt"],
        usage["completion"],
        usage["requests"],
        failed,
    )


def jupyterlab_server_mb(env: dict[str, str], tmp: Path) -> float:
    """RSS of an idle JupyterLab server (no kernel), a few seconds after it answers."""
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    lab = [sys.executable, "-m", "jupyter", "lab", "--no-browser", "--IdentityProvider.token="]
    command = [*lab, "--ServerApp.ip=127.0.0.1", f"--ServerApp.port={port}", f"--ServerApp.root_dir={tmp}"]
    if os.geteuid() == 0:  # containers and CI run as root, which JupyterLab refuses without this
        command.append("--allow-root")
    log = open(tmp / "jupyterlab.log", "w")  # noqa: SIM115 (JupyterLab writes it for as long as it runs)
    process = subprocess.Popen(command, env=env, stdout=log, stderr=log)
    try:
        import httpx

        deadline = time.monotonic() + 120
        while True:
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(
                    f"JupyterLab did not start; its log ends with:\n{(tmp / 'jupyterlab.log').read_text()[-2000:]}"
                )
            try:
                if httpx.get(f"http://127.0.0.1:{port}/lab", timeout=5).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            time.sleep(0.5)
        time.sleep(3)
        return psutil.Process(process.pid).memory_info().rss / MB
    finally:
        process.terminate()
        process.wait(30)
        log.close()


def measure() -> dict:
    load_before = os.getloadavg()[0]  # the machine is shared: the load says whether a slow figure is ours
    with tempfile.TemporaryDirectory() as tmp:
        # a fresh evidence folder: notebook 11 reads what 01-10 recorded in this session, nothing older
        env = {
            **os.environ,
            "STREAMING_LAB_DATA": str(Path(tmp) / "evidence"),
            "JUPYTER_RUNTIME_DIR": str(Path(tmp) / "runtime"),
        }
        env.pop("OPENAI_API_KEY", None)
        server_mb = jupyterlab_server_mb(env, Path(tmp))
        sizes = []
        for notebook in course.NOTEBOOKS:
            print(f"  sizing {notebook.filename}", flush=True)
            sizes.append(run_notebook(notebook, env, Path(tmp) / f"{notebook.number}.log"))
    figures = {
        "date": time.strftime("%Y-%m-%d"),
        "server_mb": server_mb,
        "load_before": load_before,
        "notebooks": [vars(s) for s in sizes],
    }
    RESULTS_JSON.write_text(json.dumps(figures, indent=1) + "\n")
    return figures


def per_student(figures: dict) -> dict:
    """The figures a JupyterHub needs per user, from the measured ones."""
    sizes = [NotebookSize(**n) for n in figures["notebooks"]]
    server = figures["server_mb"]
    peak_mb = server + max(s.tree_pss_mb for s in sizes)
    typical_mb = server + statistics.median(s.tree_pss_mb for s in sizes)
    cpu_seconds, seconds = sum(s.cpu_seconds for s in sizes), sum(s.seconds for s in sizes)
    return {
        "peak_mb": peak_mb,
        "typical_mb": typical_mb,
        "mem_limit_mb": 128 * math.ceil(peak_mb * HEADROOM / 128),
        "mem_guarantee_mb": 128 * math.ceil(typical_mb / 128),
        "browserless_peak_mb": server + max(s.browserless_pss_mb for s in sizes),
        "peak_cores": max(s.peak_cores for s in sizes),
        "mean_cores": cpu_seconds / seconds,
        "cpu_limit": max(1.0, math.ceil(max(s.peak_cores for s in sizes) * 2) / 2),
        "cpu_guarantee": max(0.1, math.ceil(cpu_seconds / seconds * 10) / 10),
        "ports": max(s.ports for s in sizes),
        "seconds": seconds,
    }


def rows(figures: dict | None = None) -> list[str]:
    """The RESULTS.md section; with a fresh measurement, docs/teaching.md and docs/jupyterhub-values.yaml follow it."""
    if figures is None:
        figures = measure()
        write_docs(figures)
    sizes = [NotebookSize(**n) for n in figures["notebooks"]]
    student = per_student(figures)
    lines = [
        "Every notebook run in order, as a student runs them: one fresh kernel per notebook, shut down after it; the notebook "
        f"starts and stops its own servers. psutil samples the kernel and every process under it every {SAMPLE} s. "
        "Tree RSS sums the RSS of the kernel and its children (shared pages counted in each, so Chromium's many processes look far bigger than they are); "
        "tree PSS sums their proportional set size (each shared page divided among its sharers), which is what they hold together and what the per-student figures use. "
        f"Peak cores is the busiest {SAMPLE} s interval; mean cores is CPU time over run time. Tokens are those the embedded model "
        f"served in the kernel (usage as the real API reports it). Load average before the run: {figures['load_before']:.1f}.",
        "",
        "| notebook | run time | CPU time | mean cores | peak cores | kernel peak RSS | kernel + children peak RSS | kernel + children peak PSS | the same without Chromium | ports listening at once | child programs | model requests | prompt tokens | completion tokens |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|---:|---:|---:|",
    ]
    for s in sizes:
        programs = ", ".join(sorted(set(s.programs))) or "none"
        lines.append(
            f"| {s.number} {s.title} | {s.seconds:.0f} s | {s.cpu_seconds:.0f} s | {s.mean_cores:.2f} | {s.peak_cores:.2f} | {s.kernel_mb:.0f} MB | "
            f"{s.tree_mb:.0f} MB | {s.tree_pss_mb:.0f} MB | {s.browserless_pss_mb:.0f} MB | {s.ports} | {programs} | {s.model_requests} | {s.prompt_tokens:,} | {s.completion_tokens:,} |"
        )
    failed = [s.number for s in sizes if s.failed_cells]
    if failed:
        lines += [
            "",
            f"**Cells failed unexpectedly in notebooks {', '.join(failed)}: these figures are incomplete.**",
        ]
    lines += [
        "",
        f"JupyterLab's own server, idle: {figures['server_mb']:.0f} MB RSS.",
        "",
        "**One student** (the server plus the largest notebook; kernels of earlier notebooks shut down):",
        "",
        "| figure | measured | JupyterHub setting |",
        "|---|---:|---|",
        f"| memory, peak | {student['peak_mb']:.0f} MB | `mem_limit: {student['mem_limit_mb']}M` (peak × {HEADROOM}, rounded up to 128 MB) |",
        f"| memory, median notebook | {student['typical_mb']:.0f} MB | `mem_guarantee: {student['mem_guarantee_mb']}M` |",
        f"| memory, peak without Chromium (as on Binder, which has none) | {student['browserless_peak_mb']:.0f} MB | |",
        f"| CPU, busiest {SAMPLE} s (this machine has {os.cpu_count()} cores) | {student['peak_cores']:.2f} cores | `cpu_limit: {student['cpu_limit']:g}` |",
        f"| CPU, mean while running every notebook | {student['mean_cores']:.2f} cores | `cpu_guarantee: {student['cpu_guarantee']:g}` |",
        f"| TCP ports listening at once | {student['ports']} | on a shared machine, all on its 127.0.0.1 |",
        f"| the whole course, run time only | {student['seconds'] / 60:.0f} min | |",
        "",
        "**A class** on a JupyterHub. Assumptions: every student runs cells at the same moment (a class following the teacher), each "
        "needs the median notebook's memory at once and the peak only now and then (memory overcommitted up to the limit), "
        "and the CPU needed is the mean while running cells:",
        "",
        "| concurrent students | memory, all guaranteed | memory if all peak at once | CPU cores, mean while running | nodes of 4 cores and 16 GB |",
        "|---:|---:|---:|---:|---:|",
    ]
    for students in CLASSES:
        memory = students * student["mem_guarantee_mb"] / 1024
        peak = students * student["peak_mb"] / 1024
        cores = students * student["mean_cores"]
        nodes = max(math.ceil(memory / 16), math.ceil(cores / 4))
        lines.append(f"| {students} | {memory:.0f} GB | {peak:.0f} GB | {cores:.0f} | {nodes} |")
    return lines


DOCS = ROOT / "docs"
TEACHING = DOCS / "teaching.md"
VALUES = DOCS / "jupyterhub-values.yaml"
SIZING_START, SIZING_END = "<!-- sizing -->", "<!-- /sizing -->"


def teaching_block(figures: dict) -> str:
    """The measured part of docs/teaching.md: each notebook's time, weight and tokens, and a class's needs."""
    sizes = {n["number"]: NotebookSize(**n) for n in figures["notebooks"]}
    student = per_student(figures)
    costs = {name[:2]: (prompt, completion, usd) for name, prompt, completion, usd in token_costs(figures)}
    lines = [
        f"_Measured by `make bench` (section 7, tests/benchmarks/sizing.py) on {figures.get('date', 'the date in RESULTS.md')}; "
        "2 shared cores, load average {:.1f} before the run. Regenerated with the measurement._".format(
            figures["load_before"]
        ),
        "",
        "| notebook | reading and working time | Run All, measured | memory, kernel + servers (PSS) | child programs | tokens (prompt + completion) | with a real key, est. |",
        "|---|---:|---:|---:|---|---:|---:|",
    ]
    total_minutes = total_seconds = total_usd = 0
    for nb in course.NOTEBOOKS:
        if nb.number not in sizes:  # added since the last measurement
            lines.append(
                f"| {nb.number} {nb.title} | {nb.minutes} min | not measured yet: `make bench` | | | | |"
            )
            continue
        size, (prompt, completion, usd) = sizes[nb.number], costs[nb.number]
        total_minutes, total_seconds, total_usd = (
            total_minutes + nb.minutes,
            total_seconds + size.seconds,
            total_usd + usd,
        )
        programs = ", ".join(sorted(set(size.programs))) or "none"
        lines.append(
            f"| {nb.number} {nb.title} | {nb.minutes} min | {size.seconds:.0f} s | {size.tree_pss_mb:.0f} MB | {programs} | "
            f"{prompt:,} + {completion:,} | ${usd:.4f} |"
        )
    lines.append(
        f"| **the course** | **{total_minutes} min** | **{total_seconds / 60:.0f} min** | | | | **${total_usd:.3f}** |"
    )
    lines += [
        "",
        f"One student needs at most **{student['peak_mb']:.0f} MB** (JupyterLab's server, {figures['server_mb']:.0f} MB, plus the largest notebook) "
        f"({student['browserless_peak_mb']:.0f} MB without Chromium, as on Binder) and **{student['peak_cores']:.1f} cores** at the busiest moment, {student['mean_cores']:.2f} cores on average while cells run; "
        f"at most **{student['ports']} TCP ports** listen at once (the kernel's own five included).",
        "",
        "| students at once | memory guaranteed | memory if every student peaks together | CPU cores while every student runs cells |",
        "|---:|---:|---:|---:|",
    ]
    for students in CLASSES:
        lines.append(
            f"| {students} | {students * student['mem_guarantee_mb'] / 1024:.0f} GB | {students * student['peak_mb'] / 1024:.0f} GB | "
            f"{students * student['mean_cores']:.0f} |"
        )
    lines += [
        "",
        f"Prices assumed for the estimate: ${PRICE['input']} per million prompt tokens, ${PRICE['output']} per million completion tokens "
        "(gpt-4o-mini's list price; check the current price list).",
    ]
    return "\n".join(lines)


def jupyterhub_values(figures: dict) -> str:
    student = per_student(figures)
    return f"""# Zero to JupyterHub (https://z2jh.jupyter.org) values for a Streaming Lab class: the `singleuser` part.
# Generated by `make bench` (tests/benchmarks/sizing.py) from the measured sizing; do not edit the numbers by hand.
#
# The image: built by repo2docker from this repository, exactly as mybinder.org builds it (binder/ holds
# the lean requirements, apt.txt's Redis, nginx and CJK fonts, and postBuild's helpers and JupyterLab settings):
#   pip install jupyter-repo2docker
#   jupyter-repo2docker --no-run --user-name jovyan --image-name registry.example.org/streaming-lab:COMMIT https://github.com/streaming-lab/streaming-lab
#   docker push registry.example.org/streaming-lab:COMMIT
# then: helm upgrade --install jhub jupyterhub/jupyterhub --values docs/jupyterhub-values.yaml
singleuser:
  image:
    name: registry.example.org/streaming-lab
    tag: "COMMIT"  # the commit you built: a class keeps the same image all term
  # repo2docker's image starts in the repository; open notebook 01 (the settings override keeps the news pop-up away)
  defaultUrl: /lab/tree/notebooks/01_generators.ipynb
  memory:
    # measured peak {student["peak_mb"]:.0f} MB (JupyterLab server + the largest notebook with its servers and Chromium, PSS) x {HEADROOM}
    limit: {student["mem_limit_mb"]}M
    # measured median notebook {student["typical_mb"]:.0f} MB: what a student uses most of the time
    guarantee: {student["mem_guarantee_mb"]}M
  cpu:
    # measured busiest {SAMPLE} s: {student["peak_cores"]:.2f} cores on a {os.cpu_count()}-core machine; a lower limit only slows the busy moments (notebook 06's Chromium, notebook 08's load tests)
    limit: {student["cpu_limit"]:g}
    # measured mean while running every notebook: {student["mean_cores"]:.2f} cores
    guarantee: {student["cpu_guarantee"]:g}
  # Ports: every notebook server binds 127.0.0.1 inside the student's own pod (at most {student["ports"]} at once), so students never collide.
  # extraEnv:
  #   OPENAI_API_KEY: ...  # leave unset: the course runs offline against its embedded model. With a key every student
  #                        # calls the real API; docs/teaching.md estimates the cost per notebook.
  startTimeout: 300
cull:
  # a student who leaves frees the memory above after an hour
  enabled: true
  timeout: 3600
"""


def write_docs(figures: dict) -> None:
    text = TEACHING.read_text()
    head, rest = text.split(SIZING_START, 1)
    tail = rest.split(SIZING_END, 1)[1]
    TEACHING.write_text(f"{head}{SIZING_START}\n{teaching_block(figures)}\n{SIZING_END}{tail}")
    VALUES.write_text(jupyterhub_values(figures))


def token_costs(figures: dict) -> list[tuple[str, int, int, float]]:
    """(notebook, prompt tokens, completion tokens, estimated USD at PRICE) per notebook."""
    return [
        (
            f"{n['number']} {n['title']}",
            n["prompt_tokens"],
            n["completion_tokens"],
            (n["prompt_tokens"] * PRICE["input"] + n["completion_tokens"] * PRICE["output"]) / 1e6,
        )
        for n in figures["notebooks"]
    ]


if __name__ == "__main__":
    if sys.argv[1:] == ["--docs"]:  # after renaming a notebook: rewrite the docs from the last measurement
        write_docs(json.loads(RESULTS_JSON.read_text()))
    else:
        print("\n".join(rows()))
