"""A live token view: text that grows while tokens arrive, with counters.

Updates go through widget traits (no `clear_output`, no `print` inside `with out:`),
and they are coalesced: at most `max_rate` frontend updates per second, however fast
the tokens come. `finish()` always shows the exact final state.
"""

from __future__ import annotations

import asyncio
import html
import time

import ipywidgets as widgets

__all__ = ["TokenView", "content_of", "show_widget", "feed_while_ticking", "perceived_wait", "wait_sliders"]


def content_of(chunk) -> str:
    """The text of a stream item: a LangChain message chunk, an SSE event's data, or a string."""
    if isinstance(chunk, str):
        return chunk
    content = getattr(chunk, "content", None)
    if content is None:
        content = getattr(chunk, "data", "")
    return content if isinstance(content, str) else ""


class TokenView:
    """`view = TokenView("title"); display(view); await view.consume(llm.astream(prompt))`."""

    def __init__(self, title: str = "", *, max_rate: float = 30.0) -> None:
        self.min_interval = 1.0 / max_rate
        self._title = widgets.HTML(f"<b>{html.escape(title)}</b>" if title else "")
        self._counters = widgets.HTML()
        self._text = widgets.HTML()
        self._notes = widgets.HTML()
        self.widget = widgets.VBox([self._title, self._counters, self._text, self._notes])
        self.widget.add_class("lab-token-view")
        self._text.add_class("lab-token-text")
        self.reset()

    def reset(self) -> None:
        self.tokens: list[str] = []
        self.started: float | None = None
        self.first_token_at: float | None = None
        self.ended: float | None = None
        self.updates = 0  # frontend updates sent: shows the coalescing at work
        self._shown = -1
        self._last_flush = 0.0
        self._render(force=True)

    @property
    def text(self) -> str:
        return "".join(self.tokens)

    @property
    def time_to_first_token(self) -> float | None:
        return None if self.first_token_at is None else self.first_token_at - self.started

    @property
    def elapsed(self) -> float:
        if self.started is None:
            return 0.0
        return (self.ended or time.monotonic()) - self.started

    def start(self) -> None:
        self.reset()
        self.started = time.monotonic()

    def feed(self, token) -> None:
        token = content_of(token)
        if self.started is None:
            self.start()
        if not token:
            return
        if self.first_token_at is None:
            self.first_token_at = time.monotonic()
        self.tokens.append(token)
        if time.monotonic() - self._last_flush >= self.min_interval:
            self._render()

    def note(self, message: str) -> None:
        """A line under the text: retrieval results, errors, the done event."""
        self._notes.value += f"<div>{html.escape(message)}</div>"

    def finish(self) -> None:
        self.ended = time.monotonic()
        self._render(force=True)

    async def consume(self, stream) -> str:
        """Feed every item of an async iterator, flushing on a timer too, so a slow stream still shows."""
        self.start()
        try:
            await feed_while_ticking(stream, self.feed, self._tick)
        finally:
            self.finish()
        return self.text

    async def _tick(self) -> None:
        # Wake one interval after the last flush, whoever made it: `feed` flushes too, and a timer
        # with a phase of its own could draw right after it, up to twice per interval.
        while True:
            wait = self._last_flush + self.min_interval - time.monotonic()
            await asyncio.sleep(wait if wait > 0 else self.min_interval)
            if time.monotonic() - self._last_flush >= self.min_interval:
                self._render()

    def _render(self, force: bool = False) -> None:
        if not force and self._shown == len(self.tokens):
            return
        self._shown = len(self.tokens)
        self._last_flush = time.monotonic()
        self.updates += 1
        self._text.value = f'<div style="white-space: pre-wrap; font-family: var(--jp-content-font-family, sans-serif)">{html.escape(self.text)}</div>'
        ttft = "–" if self.time_to_first_token is None else f"{self.time_to_first_token:.2f} s"
        elapsed = self.elapsed
        rate = f"{len(self.tokens) / elapsed:.1f}" if elapsed > 0 and self.tokens else "–"
        self._counters.value = f"<small>first token {ttft} · {len(self.tokens)} tokens · {rate} tokens/s · {elapsed:.2f} s</small>"

    def _repr_mimebundle_(self, **kwargs):
        bundle = self.widget._repr_mimebundle_(**kwargs)
        bundle["text/plain"] = "TokenView (a live widget: open in JupyterLab to see it)"
        return bundle

    def __repr__(self) -> str:
        return f"TokenView(tokens={len(self.tokens)}, text={self.text[:40]!r})"


def show_widget(widget, description: str) -> None:
    """Display a widget with a fixed plain-text form, so saved notebooks do not change with its values."""
    from IPython.display import display

    bundle = widget._repr_mimebundle_()
    bundle["text/plain"] = description
    display(bundle, raw=True)


async def feed_while_ticking(stream, feed, tick) -> None:
    """`feed(item)` for every item of an async iterator while `tick()` runs alongside, redrawing on a
    timer: a widget coalesces updates, so a slow stream would otherwise not show its last item."""
    ticker = asyncio.create_task(tick())
    try:
        async for item in stream:
            feed(item)
    finally:
        ticker.cancel()


def perceived_wait(first: float, tokens: int, rate: float, overhead: dict[str, float]) -> dict[str, float]:
    """Seconds until the first words are visible, a model: the streamed reader waits for the first
    token, the buffered one for all of them (`first + tokens / rate`), each plus its measured overhead."""
    return {
        "streamed": first + overhead["streamed"],
        "buffered": first + tokens / rate + overhead["buffered"],
    }


def wait_sliders(overhead: dict[str, float], decide) -> widgets.VBox:
    """Sliders for the answer's length, the model's speed and its first-token delay, above bars of the
    perceived wait they give, streamed and buffered, and `decide(wait saved)` under them."""
    sliders = {
        "tokens": widgets.IntSlider(200, min=1, max=2000, step=10, description="tokens"),
        "rate": widgets.IntSlider(40, min=5, max=300, step=5, description="tokens/s"),
        "first": widgets.FloatSlider(0.5, min=0.0, max=3.0, step=0.1, description="first token"),
    }
    picture = widgets.HTML()

    def bar(label: str, seconds: float, color: str, scale: float) -> str:
        width = 300 * seconds / scale
        return (
            f'<div style="margin:2px 0">{label:9} <span style="display:inline-block;width:{width:.0f}px;'
            f'height:14px;background:{color}"></span> {seconds:.2f} s</div>'
        )

    def redraw(_=None) -> None:
        wait = perceived_wait(
            sliders["first"].value, sliders["tokens"].value, sliders["rate"].value, overhead
        )
        scale = max(wait["buffered"], wait["streamed"], 0.01)
        picture.value = (
            "<b>seconds until the first words are visible</b>"
            + bar("streamed", wait["streamed"], "#2a7", scale)
            + bar("buffered", wait["buffered"], "#c33", scale)
            + f"<i>{decide(wait['buffered'] - wait['streamed'])}</i>"
        )

    for slider in sliders.values():
        slider.observe(redraw, "value")
    redraw()
    return widgets.VBox([*sliders.values(), picture])
