"""Notebook 03's table: what `uvicorn.run` raises inside a running loop, on this Python, before and after nest_asyncio.

The notebook's stored outputs mask the message (tests/sanitize.cfg), because it depends on the
version; this test holds the table to what this interpreter really raises. CI runs it on every
supported Python.
"""

import json
import subprocess
import sys

# Run in a child interpreter: nest_asyncio patches asyncio for the whole process.
SCRIPT = """
import asyncio, json, warnings
warnings.filterwarnings("ignore", message="coroutine .* was never awaited", category=RuntimeWarning)
import uvicorn
from fastapi import FastAPI

def refusal():
    try:
        uvicorn.run(FastAPI(), host="127.0.0.1", port=0)
    except RuntimeError as exc:
        return str(exc)
    return "no error"

async def cell():  # a notebook cell: synchronous code called while the kernel's loop runs
    before = refusal()
    import nest_asyncio
    nest_asyncio.apply()
    return {"before": before, "after_nest_asyncio": refusal(), "starts_loop_with": uvicorn._compat.asyncio_run.__module__}

print(json.dumps(asyncio.run(cell())))
"""

TABLE = {
    (3, 11): {
        "before": "Cannot run the event loop while another loop is running",
        "after_nest_asyncio": "Runner.run() cannot be called from a running event loop",
        "starts_loop_with": "uvicorn._compat",
    },
    (3, 12): {
        "before": "asyncio.run() cannot be called from a running event loop",
        "after_nest_asyncio": "asyncio.run() cannot be called from a running event loop",
        "starts_loop_with": "asyncio.runners",
    },
}


def test_uvicorn_run_in_a_running_loop_raises_what_notebook_03_says_for_this_python():
    done = subprocess.run([sys.executable, "-c", SCRIPT], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    expected = TABLE[(3, 11)] if sys.version_info < (3, 12) else TABLE[(3, 12)]
    assert json.loads(done.stdout.splitlines()[-1]) == expected
