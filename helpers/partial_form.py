"""A form that fills in field by field while structured output streams as partial JSON objects.

`JsonOutputParser` turns every chunk of JSON text into the object parsed so far (closing open
strings, lists and objects), so a page or widget can show each field as it grows. The form keeps
every partial object it was given (`snapshots`), so a lesson can show what a field looked like
before it was complete. Updates are coalesced like TokenView's: at most `max_rate` a second.
"""

from __future__ import annotations

import asyncio
import html
import json
import time

import ipywidgets as widgets

from .widgets import feed_while_ticking

__all__ = ["PartialForm"]


class PartialForm:
    """`form = PartialForm(["title", "priority", ...]); display(form); final = await form.consume(stream)`."""

    def __init__(self, fields: list[str], title: str = "", *, max_rate: float = 30.0) -> None:
        self.fields = list(fields)
        self.min_interval = 1.0 / max_rate
        self.title = title
        self.snapshots: list[dict] = []
        self.updates = 0
        self._last_draw = 0.0
        self.widget = widgets.HTML()
        self.widget.add_class("lab-partial-form")
        self._draw(streaming=False)

    @property
    def current(self) -> dict:
        return self.snapshots[-1] if self.snapshots else {}

    def update(self, partial: dict) -> None:
        self.snapshots.append(partial)
        if time.monotonic() - self._last_draw >= self.min_interval:
            self._draw(streaming=True)

    async def consume(self, stream) -> dict:
        """Feed every partial object of an async iterator; the last one is returned (and drawn)."""
        self.snapshots = []
        try:
            await feed_while_ticking(stream, self.update, self._tick)
        finally:
            self._draw(streaming=False)
        return self.current

    async def _tick(self) -> None:
        shown = -1
        while True:  # a slow stream still shows its last partial object
            await asyncio.sleep(self.min_interval)
            if len(self.snapshots) != shown:
                shown = len(self.snapshots)
                self._draw(streaming=True)

    def _draw(self, streaming: bool) -> None:
        self._last_draw = time.monotonic()
        self.updates += 1
        rows = []
        for name in self.fields:
            value = self.current.get(name)
            shown = (
                ""
                if value is None
                else value
                if isinstance(value, str)
                else json.dumps(value, ensure_ascii=False)
            )
            rows.append(
                f"<tr><th style='text-align:left;padding-right:1em'>{html.escape(name)}</th><td style='white-space:pre-wrap'>{html.escape(shown)}</td></tr>"
            )
        state = "streaming…" if streaming else f"{len(self.snapshots)} partial objects"
        self.widget.value = (
            f"<b>{html.escape(self.title)}</b> <small>{state}</small><table>{''.join(rows)}</table>"
        )

    def _repr_mimebundle_(self, **kwargs):
        bundle = self.widget._repr_mimebundle_(**kwargs)
        bundle["text/plain"] = "PartialForm (a live widget: open in JupyterLab to see it)"
        return bundle
