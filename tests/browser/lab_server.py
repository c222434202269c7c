"""Start JupyterLab on a copy of the notebooks, behind a Binder-like base URL, and stop it cleanly."""

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from contextlib import contextmanager
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[2]
BASE = "/user/test/"
OVERRIDES = ROOT / "binder" / "overrides.json"  # the settings a learner's JupyterLab starts with


def installed_overrides() -> Path:
    """Where JupyterLab reads settings overrides: <app dir>/settings/overrides.json (`make install` copies them there)."""
    from jupyterlab.commands import get_app_dir

    return Path(get_app_dir()) / "settings" / "overrides.json"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextmanager
def jupyterlab(tmp: Path):
    """Yield the URL of a JupyterLab with no token on 127.0.0.1; the kernel sees JUPYTERHUB_SERVICE_PREFIX.

    The page exposes `window.jupyterapp`, so tests can wait for what JupyterLab itself reports.
    """
    installed = installed_overrides()
    if not installed.exists() or json.loads(installed.read_text()) != json.loads(OVERRIDES.read_text()):
        raise RuntimeError(
            f"{installed} is missing or differs from binder/overrides.json: run `make install`"
        )
    settings = tmp / "settings" / "@jupyterlab" / "notebook-extension"
    settings.mkdir(parents=True)
    # render every cell, so tests can see every output (JupyterLab 4 windows long notebooks)
    (settings / "tracker.jupyterlab-settings").write_text(json.dumps({"windowingMode": "none"}))
    notebooks = tmp / "notebooks"  # a copy: running cells in the browser must not touch the committed files
    shutil.copytree(ROOT / "notebooks", notebooks, ignore=shutil.ignore_patterns(".ipynb_checkpoints"))
    port = free_port()
    env = {
        **os.environ,
        "JUPYTERLAB_SETTINGS_DIR": str(tmp / "settings"),
        "JUPYTERLAB_WORKSPACES_DIR": str(tmp / "workspaces"),
        "JUPYTER_RUNTIME_DIR": str(tmp / "runtime"),
        "JUPYTERHUB_SERVICE_PREFIX": BASE,
        # its kernels record their measurements here: each JupyterLab starts with none, whatever ran before
        "STREAMING_LAB_DATA": str(tmp / "evidence"),
    }
    command = [
        sys.executable,
        "-m",
        "jupyter",
        "lab",
        "--no-browser",
        f"--ServerApp.port={port}",
        "--ServerApp.ip=127.0.0.1",
        f"--ServerApp.base_url={BASE}",
        "--IdentityProvider.token=",
        "--ServerApp.password=",
        f"--ServerApp.root_dir={notebooks}",
        "--ServerApp.port_retries=0",
        "--LabApp.expose_app_in_browser=True",
    ] + (["--allow-root"] if os.geteuid() == 0 else [])  # CI runs as root
    log_path = tmp / "jupyterlab.log"
    with open(log_path, "w") as log:
        process = subprocess.Popen(
            command, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )
        url = f"http://127.0.0.1:{port}{BASE}"
        try:
            deadline = time.monotonic() + 120  # a cold start on a busy machine is slow
            while True:
                try:
                    if httpx.get(url + "api/status", timeout=2).status_code == 200:
                        break
                except httpx.HTTPError:
                    pass
                if process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError("JupyterLab did not start:\n" + log_path.read_text()[-3000:])
                time.sleep(0.3)
            yield url
        finally:
            stop_group(process)


def stop_group(process):
    """Stop the server and every kernel it started (they share its process group)."""
    for sig in (signal.SIGTERM, signal.SIGKILL):
        try:
            os.killpg(process.pid, sig)
            process.wait(20)
            return
        except ProcessLookupError:
            return
        except subprocess.TimeoutExpired:
            continue
