"""The `text/event-stream` format: an encoder and a spec-following incremental decoder.

The decoder implements the WHATWG HTML "parsing an event stream" algorithm
(https://html.spec.whatwg.org/multipage/server-sent-events.html#event-stream-interpretation)
step by step, so the notebooks can show each rule with a tiny input.
"""

from __future__ import annotations

import codecs
import re
from dataclasses import dataclass

__all__ = ["Event", "Decoder", "encode", "comment", "parse"]

_LINE_BREAK = re.compile(r"\r\n|\r|\n")


def _single_line(name: str, value: str) -> str:
    value = str(value)
    if "\n" in value or "\r" in value:
        raise ValueError(f"SSE {name!r} must be a single line, got {value!r}")
    return value


def encode(data: str, *, event: str | None = None, id: str | None = None, retry: int | None = None) -> str:
    """Frame one event. Every line of `data` gets its own `data:` line; a blank line ends the event.

    It runs once per token on a busy server, so the common case (one line of data) skips
    the regular expression; `make bench` measures what this costs against pre-framed bytes.
    """
    head = ""
    if event is not None:
        head = f"event: {_single_line('event', event)}\n"
    if id is not None:
        if "\0" in str(id):
            raise ValueError("SSE 'id' must not contain NUL: browsers ignore such an id")
        head += f"id: {_single_line('id', id)}\n"
    if retry is not None:
        if isinstance(retry, bool) or not isinstance(retry, int) or retry < 0:
            raise ValueError(f"SSE 'retry' must be a non-negative int (milliseconds), got {retry!r}")
        head += f"retry: {retry}\n"
    text = str(data)
    if "\n" in text or "\r" in text:
        return head + "".join(f"data: {line}\n" for line in _LINE_BREAK.split(text)) + "\n"
    return f"{head}data: {text}\n\n"


def comment(text: str = "") -> str:
    """A comment line, ignored by clients: used as a keep-alive so proxies do not close an idle stream."""
    return "".join(f": {line}\n" if line else ":\n" for line in _LINE_BREAK.split(text)) + "\n"


@dataclass(frozen=True)
class Event:
    """What a browser's `EventSource` would dispatch: `type`, `data` and `lastEventId` as `id`."""

    data: str
    type: str = "message"
    id: str = ""


class Decoder:
    """Incremental `text/event-stream` parser: `feed(bytes)` returns the events completed so far.

    Chunks may split anywhere, also inside a UTF-8 character or between CR and LF.
    """

    def __init__(self) -> None:
        self._utf8 = codecs.getincrementaldecoder("utf-8")(errors="replace")
        self._started = False  # a BOM is stripped only at the very start of the stream
        self._text = ""  # decoded text not yet split into lines
        self._after_cr = False  # the last chunk ended in CR: a leading LF belongs to it
        self._data: list[str] = []
        self._event_type = ""
        self._id_buffer = ""
        self.last_event_id = ""
        self.retry: int | None = None

    def feed(self, chunk: bytes) -> list[Event]:
        text = self._utf8.decode(chunk)
        if not self._started and text:
            self._started = True
            if text.startswith("\ufeff"):
                text = text[1:]
        if self._after_cr and text:
            self._after_cr = False
            if text.startswith("\n"):
                text = text[1:]
        self._text += text
        events: list[Event] = []
        while True:
            match = _LINE_BREAK.search(self._text)
            if match is None:
                break
            if match.group() == "\r" and match.end() == len(self._text):
                self._after_cr = True  # an LF may still follow in the next chunk
            line, self._text = self._text[: match.start()], self._text[match.end() :]
            event = self._process_line(line)
            if event is not None:
                events.append(event)
        return events

    def close(self) -> list[Event]:
        """End of stream: an event without its closing blank line is discarded, as the spec says."""
        self._utf8.decode(b"", final=True)
        self._text, self._data, self._event_type = "", [], ""
        return []

    # A notebook prints this function's source: the formatter leaves it as the notebook shows it.
    # fmt: off
    def _process_line(self, line: str) -> Event | None:
        if line == "":
            return self._dispatch()
        if line.startswith(":"):
            return None
        field, colon, value = line.partition(":")
        if colon and value.startswith(" "):
            value = value[1:]
        if field == "event":
            self._event_type = value
        elif field == "data":
            self._data.append(value)
        elif field == "id":
            if "\0" not in value:
                self._id_buffer = value
        elif field == "retry":
            if value and value.isascii() and value.isdigit():
                self.retry = int(value)
        return None
    # fmt: on

    def _dispatch(self) -> Event | None:
        self.last_event_id = self._id_buffer
        data, event_type = self._data, self._event_type
        self._data, self._event_type = [], ""
        if not data:
            return None
        return Event(data="\n".join(data), type=event_type or "message", id=self.last_event_id)


def parse(stream: bytes | str) -> list[Event]:
    """Decode a whole stream at once (convenient in notebooks and tests)."""
    decoder = Decoder()
    events = decoder.feed(stream.encode() if isinstance(stream, str) else stream)
    return events + decoder.close()
