"""Relay replicas: the relay as separate uvicorn *processes*, the way it runs behind a load balancer.

Each replica is `uvicorn --factory helpers.chat_app:create_app` on its own free port of
127.0.0.1, with `STREAM_STORE` naming the store it uses. Two replicas with the `memory` store
share nothing; two with the same SQLite file or Redis server share every stream. Replicas are
child processes of the kernel (`helpers.local_service`): restartable by name, stopped with the
kernel, and `stop()` frees the port. Each answers with the embedded model in its own process,
unless `offline=False` and OPENAI_API_KEY is set.
"""

from __future__ import annotations

import os
import sys
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from .kernel_server import LoopbackAddresses
from .local_service import LocalService, ServiceHandle, start_service

__all__ = ["Replica", "start_replica"]

_CHECKOUT = str(Path(__file__).resolve().parent.parent)  # the replica imports these helpers, not another copy


@dataclass
class Replica(ServiceHandle, LoopbackAddresses):
    """One relay process: `url` for clients in the kernel, `public_url` for the browser, `log()` for its output."""

    name: str = ""
    store: str = "memory"

    def stop(self) -> None:
        """SIGTERM: uvicorn closes its connections, the relay ends its running streams as `interrupted`."""
        self.service.stop()


def _serves_pages(service: LocalService) -> bool:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{service.port}/lab.css", timeout=2) as response:
            return response.status == 200
    except OSError:
        return False


def start_replica(
    name: str, store: str = "memory", *, offline: bool = True, access_log: bool = True
) -> Replica:
    """Start (or restart, under the same name) one relay process using the stream store `store` (a URL)."""
    env = {**os.environ, "STREAM_STORE": store, "RELAY_REPLICA": name, "PYTHONUNBUFFERED": "1"}
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [_CHECKOUT, os.environ.get("PYTHONPATH")]))
    if offline:
        env.pop("OPENAI_API_KEY", None)  # lessons that inject faults need the embedded model

    def command(port, folder):
        return [
            sys.executable,
            "-m",
            "uvicorn",
            "--factory",
            "helpers.chat_app:create_app",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--timeout-graceful-shutdown",
            "1",
            *([] if access_log else ["--no-access-log"]),
        ]

    service = start_service(name, command, ready=_serves_pages, startup_timeout=60, env=env)
    return Replica(service, name=name, store=store)
