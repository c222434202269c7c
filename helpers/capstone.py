"""The capstone's service: a folder with `app.py` (a FastAPI `app`) and `static/`, imported fresh and served.

    load_service(folder)              import folder/app.py as a new module, every call
    serve_service(folder, name=...)   load it and serve its `app` in the kernel (kernel_server.serve)
    course_model()                    the model the services talk to: the embedded model behind a
                                      thin layer that the grader steers (CourseModel)

The learner's `app.py` creates its model the way the source material does, `llm = ChatOpenAI()`,
which reads OPENAI_API_KEY and OPENAI_BASE_URL from the environment. So `load_service` sets both
while it imports the file, and puts them back afterwards (other notebooks read the same
variables): the service talks to the course's offline model, or to the real API when a key is
set and `offline` is false. The grader always loads with `offline=True`: its checks inject faults.
"""

from __future__ import annotations

import functools
import itertools
import json
import os
import sys
import threading
import traceback
import types
from contextlib import contextmanager
from pathlib import Path

from . import course, kernel_server
from .embedded_model import MODEL_NAME, OFFLINE_API_KEY, EmbeddedModel, real_api_requested

__all__ = [
    "ServiceError",
    "CourseModel",
    "course_model",
    "service_folder",
    "load_service",
    "serve_service",
    "ENVIRONMENT",
]

ENVIRONMENT = ("OPENAI_API_KEY", "OPENAI_BASE_URL", "OPENAI_API_BASE")
_loads = itertools.count(1)
_environment_lock = threading.Lock()


class ServiceError(RuntimeError):
    """The service cannot run: the message is one line saying why (a missing file, an import error)."""


# ---------------------------------------------------------------- the model


class CourseModel:
    """The embedded model as the capstone's services see it.

    Three things sit between a service and the model, in one small ASGI layer:
    - each load of a service gets a base URL of its own (`/load-N/v1`). ChatOpenAI shares one
      HTTP client per base URL, and that client belongs to the event loop that first used it;
      a service served again runs in a new loop, and the shared client then fails its first
      request (measured: HTTP 500 "Event loop is closed").
    - every request gets the lab options of `using(...)` (the grader's fault injection: the
      service's own code never asks for faults) and the model's name (`ChatOpenAI()` asks for
      gpt-3.5-turbo; the embedded model answers to MODEL_NAME only).
    - `sent` keeps the text the model sent for each request, after `line_breaks` put line
      breaks into some tokens, as a model writing a list or code does: the truth a grader
      compares the service's output with.
    """

    def __init__(self, name: str = "capstone-model") -> None:
        self.model = EmbeddedModel()
        self.name = name
        self.lab: dict = {}
        self.line_breaks = False
        self.sent: dict[str, list[str]] = {}  # response id (= request record id) -> content pieces
        self.errors: list[str] = []  # the messages of the model's own errors, as its API sent them
        self.handle: kernel_server.ServerHandle | None = None

    @property
    def requests(self):
        """The embedded model's request records, oldest first."""
        return self.model.requests

    def start(self) -> kernel_server.ServerHandle:
        if self.handle is None or not self.handle.running:
            self.handle = kernel_server.serve(self, name=self.name)
        return self.handle

    def stop(self) -> None:
        if self.handle is not None:
            self.handle.stop()
            self.handle = None

    def new_base_url(self) -> str:
        return f"{self.start().url}/load-{next(_loads)}/v1"

    @contextmanager
    def using(self, *, line_breaks: bool = False, **lab):
        """Every request made inside the block carries `lab` (tokens, token_delay, fault, ...)."""
        self.lab, self.line_breaks = dict(lab), line_breaks
        try:
            yield self
        finally:
            self.lab, self.line_breaks = {}, False

    def text_of(self, record) -> str:
        """What the model sent for one request record."""
        return "".join(self.sent.get(record.id, []))

    async def __call__(self, scope, receive, send) -> None:
        """The ASGI layer in front of the embedded model (an instance, so uvicorn sees ASGI 3)."""
        if scope["type"] != "http":
            return await self.model.app(scope, receive, send)
        path = scope["path"]
        if path.startswith("/load-"):
            path = "/" + path.split("/", 2)[2] if path.count("/") >= 2 else "/"
        scope = {**scope, "path": path, "raw_path": path.encode()}
        if path != "/v1/chat/completions" or scope["method"] != "POST":
            return await self.model.app(scope, receive, send)

        body = bytearray()
        while True:
            message = await receive()
            if message["type"] != "http.request":
                return  # the client left before its request arrived
            body += message.get("body", b"")
            if not message.get("more_body"):
                break
        try:
            request = json.loads(body)
            request["model"] = MODEL_NAME
            request["lab"] = {**(request.get("lab") or {}), **self.lab}
            body = bytearray(json.dumps(request).encode())
        except (ValueError, TypeError, AttributeError):
            pass  # not JSON: the model refuses it the way the API does
        headers = [(k, v) for k, v in scope["headers"] if k != b"content-length"] + [
            (b"content-length", str(len(body)).encode())
        ]
        scope["headers"] = headers
        delivered = False

        async def receive_rewritten():
            nonlocal delivered
            if not delivered:
                delivered = True
                return {"type": "http.request", "body": bytes(body), "more_body": False}
            return await receive()  # later calls wait for the disconnect, which the model watches for

        line_breaks, count, status = self.line_breaks, itertools.count(), 200

        async def send_recorded(message):
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            elif message["type"] == "http.response.body" and status >= 400:
                self._record_error(message.get("body", b""))
            elif message["type"] == "http.response.body" and message.get("body", b"").startswith(b"data: {"):
                message = {**message, "body": self._record(message["body"], line_breaks, count)}
            await send(message)

        await self.model.app(scope, receive_rewritten, send_recorded)

    def _record(self, chunk: bytes, line_breaks: bool, count) -> bytes:
        """Keep the content of one streamed chunk; with `line_breaks`, put a line break into some tokens."""
        lines = []
        for line in chunk.decode().split("\n"):
            if line.startswith("data: {"):
                payload = json.loads(line[6:])
                if isinstance(payload.get("error"), dict):
                    self.errors.append(str(payload["error"].get("message", "")))
                for choice in payload.get("choices") or []:
                    content = (choice.get("delta") or {}).get("content")
                    if content:
                        if line_breaks:
                            content = _with_line_break(content, next(count))
                            choice["delta"]["content"] = content
                        self.sent.setdefault(payload["id"], []).append(content)
                line = "data: " + json.dumps(payload, ensure_ascii=False)
            lines.append(line)
        if len(self.sent) > 400:  # keep what the model's own records still describe
            known = {record.id for record in self.model.requests}
            self.sent = {key: value for key, value in self.sent.items() if key in known}
        return "\n".join(lines).encode()

    def _record_error(self, body: bytes) -> None:
        try:
            self.errors.append(str(json.loads(body)["error"]["message"]))
        except (ValueError, KeyError, TypeError):
            pass
        del self.errors[:-100]


def _with_line_break(token: str, index: int) -> str:
    """Every kind of line break the SSE format knows, and an empty line, which ends an event."""
    word = token.lstrip(" ")
    return [token, "\n" + word, "\n\n" + word, "\r\n" + word, word + "\r"][index % 5]


@functools.cache
def _the_course_model() -> CourseModel:
    return CourseModel()


def course_model() -> CourseModel:
    """The kernel's one CourseModel, started on first use (and again if its server was stopped)."""
    model = _the_course_model()
    model.start()
    return model


# ---------------------------------------------------------------- the service


def service_folder(folder: str | Path) -> Path:
    """`folder` as given, else under notebooks/ (so "capstone" works from the repository's root too)."""
    path = Path(folder)
    if not path.is_absolute() and not path.exists() and (course.NOTEBOOK_DIR / path).exists():
        path = course.NOTEBOOK_DIR / path
    return path.resolve()


@contextmanager
def _model_environment(values: dict[str, str]):
    """Set the OpenAI variables for the length of an import, then put back what was there."""
    with _environment_lock:
        saved = {name: os.environ.get(name) for name in ENVIRONMENT}
        os.environ.update(values)
        try:
            yield
        finally:
            for name, value in saved.items():
                if value is None:
                    os.environ.pop(name, None)
                else:
                    os.environ[name] = value


def load_service(folder: str | Path = "capstone", *, model: CourseModel | None = None, offline: bool = False):
    """Import `folder`/app.py as a new module and return it; ServiceError with one line if that fails.

    The model: the real API if OPENAI_API_KEY is set and neither `offline` nor `model` is given,
    else `model` (default: `course_model()`).
    """
    path = service_folder(folder) / "app.py"
    if not path.is_file():
        raise ServiceError(f"no app.py in {path.parent}")
    if real_api_requested(offline=offline) and model is None:
        values = {}
    else:
        base_url = (model or course_model()).new_base_url()
        values = {"OPENAI_API_KEY": OFFLINE_API_KEY, "OPENAI_BASE_URL": base_url, "OPENAI_API_BASE": base_url}
    name = f"capstone_service_{next(_loads)}"
    module = types.ModuleType(name)
    module.__file__ = str(path)
    sys.modules[name] = module  # pydantic and dataclasses look their module up while the file runs
    try:
        # Compiled from the text each time, never from a cached .pyc: a .pyc is trusted when the
        # file's size and mtime (whole seconds) match, and two quick edits can leave both equal.
        code = compile(path.read_text(encoding="utf-8"), str(path), "exec")
        with _model_environment(values):
            exec(code, module.__dict__)
    except BaseException as exc:  # a SystemExit or a typo must become one line, not a dead kernel
        sys.modules.pop(name, None)
        if isinstance(exc, KeyboardInterrupt):
            raise
        raise ServiceError(f"app.py does not import: {_one_line(exc, path)}") from None
    app = getattr(module, "app", None)
    if not callable(app):
        raise ServiceError("app.py defines no `app` (a FastAPI application)")
    return module


def _one_line(exc: BaseException, path: Path) -> str:
    """`Type: message (app.py, line N)`, the line being the last one of the learner's file in the traceback."""
    if isinstance(exc, SyntaxError) and exc.lineno:
        return f"SyntaxError: {exc.msg} (app.py, line {exc.lineno})"
    lines = [
        frame.lineno for frame in traceback.extract_tb(exc.__traceback__) if Path(frame.filename) == path
    ]
    where = f" (app.py, line {lines[-1]})" if lines else ""
    message = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
    return f"{type(exc).__name__}: {message}{where}" if message else f"{type(exc).__name__}{where}"


def serve_service(
    folder: str | Path = "capstone",
    *,
    name: str = "capstone",
    model: CourseModel | None = None,
    offline: bool = False,
) -> kernel_server.ServerHandle:
    """Load the service fresh and serve it under `name` (an older server of that name stops first)."""
    module = load_service(folder, model=model, offline=offline)
    try:
        return kernel_server.serve(module.app, name=name)
    except Exception as exc:  # ServerStartError, or an app uvicorn cannot run
        raise ServiceError(f"the server did not start: {type(exc).__name__}: {exc}") from None
