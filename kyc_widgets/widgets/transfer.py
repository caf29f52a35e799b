"""Files the analyst takes away or brings in, as browser downloads and uploads.

Why: the app runs on a private temporary copy of its notebook, which Voila
does not serve and which is removed when the app stops, so a file "written
next to the notebook" and linked gave ``403: Forbidden`` and left the sheet's
personal data on the server's disk until then. A ``data:`` link instead puts
the bytes in the widget's state, which a notebook saves. ipywidgets has no
download widget, and its ``FileUpload`` keeps the file in its state too (and
shows an unexplained "(0)").

So two small `anywidget <https://anywidget.dev>`_ views (``transfer.js``,
shipped in this package: nothing fetched at run time):

- :class:`Download`: a button. Its click asks the kernel for the file; the
  ``build`` callable makes the bytes *then* (a 100k-row report is built only
  when asked for), and they go to the browser as message buffers, in chunks
  of :data:`CHUNK_BYTES`, where a ``Blob`` and an object URL are saved with an
  ``<a download>``. Nothing is written on the server, nothing is kept in the
  widget's state. :meth:`Download.click` does the same from Python (tests,
  scripts) and returns the file.
- :class:`Upload`: a button that opens the browser's file chooser (the
  ``<input type=file>`` behind it accepts :attr:`Upload.accept`); the file's
  bytes come to the kernel as message buffers and go to ``on_upload(name,
  bytes)``. :meth:`Upload.receive` is the same from Python.

Both are real buttons (Tab, Enter, Space), labelled by their visible words,
and say what happened next to themselves in a status line (``role=status``,
or ``role=alert`` for a failure), never in colour alone.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import anywidget
import traitlets

__all__ = ["CHUNK_BYTES", "Download", "File", "Upload", "UploadTooLarge"]

CHUNK_BYTES = 4 * 1024 * 1024
"""Bytes per message: well under the websocket message limits of Jupyter servers."""

_ESM = Path(__file__).with_name("transfer.js").read_text(encoding="utf-8")


@dataclass(frozen=True)
class File:
    """A file to hand to the browser: its name, bytes and media type."""

    name: str
    data: bytes
    mime: str = "application/octet-stream"


class UploadTooLarge(ValueError):
    """An uploaded file is larger than :attr:`Upload.max_bytes`."""


def _size_words(size: int) -> str:
    if size < 1024:
        return f"{size} bytes"
    if size < 1024 * 1024:
        return f"{size / 1024:.0f} kB"
    return f"{size / (1024 * 1024):.1f} MB"


class _Transfer(anywidget.AnyWidget):
    _esm = _ESM
    kind = traitlets.Unicode("download").tag(sync=True)
    label = traitlets.Unicode("").tag(sync=True)
    busy_label = traitlets.Unicode("Preparing…").tag(sync=True)
    busy = traitlets.Bool(False).tag(sync=True)
    disabled = traitlets.Bool(False).tag(sync=True)
    hint = traitlets.Unicode("").tag(sync=True)
    """The button's tooltip (not ``tooltip``: ipywidgets' own view would read a ``description``
    this widget does not have)."""
    button_style = traitlets.Unicode("").tag(sync=True)
    status = traitlets.Unicode("").tag(sync=True)
    """What the last click did, in words, next to the button."""
    status_is_error = traitlets.Bool(False).tag(sync=True)

    def __init__(self, *, tooltip: str = "", **kwargs: Any) -> None:
        super().__init__(hint=tooltip, **kwargs)

    def say(self, text: str, *, error: bool = False) -> None:
        self.status_is_error = error
        self.status = text


class Download(_Transfer):
    """A button that saves ``build()``'s :class:`File` in the browser (see the module docstring).

    ``build`` returns the file, or None when there is nothing to save (the
    status then says ``nothing``); an ``OSError`` or ``ValueError`` it raises
    is said next to the button. ``on_sent(file)`` is called after a file was sent.
    """

    def __init__(
        self,
        label: str,
        build: Callable[[], File | None],
        *,
        nothing: str = "Nothing to download yet.",
        on_sent: Callable[[File], None] | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(kind="download", label=label, **kwargs)
        self.build = build
        self.nothing = nothing
        self.on_sent = on_sent
        self.sent: list[tuple[str, int]] = []
        """``(file name, size)`` of every file sent (the bytes are not kept)."""
        self.on_msg(self._message)

    def _message(self, _widget: Any, content: Any, _buffers: Any) -> None:
        if isinstance(content, dict) and content.get("event") == "click":
            self.click()

    def click(self) -> File | None:
        """Build the file and send it to the browser; returns it (None: nothing, or it failed)."""
        if self.disabled or self.busy:
            return None
        self.busy = True
        try:
            made = self.build()
        except (OSError, ValueError) as exc:
            self.say(f"The file could not be made: {exc}", error=True)
            return None
        finally:
            self.busy = False
        if made is None:
            self.say(self.nothing)
            return None
        self._deliver(made)
        self.sent.append((made.name, len(made.data)))
        self.say(f"Downloaded {made.name} ({_size_words(len(made.data))}).")
        if self.on_sent is not None:
            self.on_sent(made)
        return made

    def _deliver(self, made: File) -> None:
        data = memoryview(made.data)
        chunks = max(1, -(-len(data) // CHUNK_BYTES))
        self.send({"event": "file", "name": made.name, "mime": made.mime, "chunks": chunks})
        for index in range(chunks):
            part = data[index * CHUNK_BYTES : (index + 1) * CHUNK_BYTES]
            self.send({"event": "chunk", "index": index}, buffers=[part])


class Upload(_Transfer):
    """A button that opens the browser's file chooser; the file goes to ``on_upload(name, data)``.

    ``accept`` lists the file endings offered (``".csv,.xlsx"``); ``max_bytes``
    refuses a larger file before its bytes are sent. ``on_upload`` may raise
    ``ValueError``/``OSError``: the message is said next to the button.
    """

    accept = traitlets.Unicode("").tag(sync=True)
    max_bytes = traitlets.Int(0).tag(sync=True)

    def __init__(
        self,
        label: str,
        on_upload: Callable[[str, bytes], object],
        *,
        accept: str = "",
        max_bytes: int = 0,
        **kwargs: Any,
    ) -> None:
        super().__init__(kind="upload", label=label, accept=accept, max_bytes=max_bytes, **kwargs)
        self.on_upload = on_upload
        self._incoming: dict[str, Any] | None = None
        self.on_msg(self._message)

    def _message(self, _widget: Any, content: Any, buffers: Any) -> None:
        if not isinstance(content, dict):
            return
        event = content.get("event")
        if event == "too-large":
            self.say(self._too_large(str(content.get("name", "The file"))), error=True)
        elif event == "start":
            self._incoming = {
                "name": str(content.get("name") or "upload"),
                "chunks": int(content.get("chunks") or 1),
                "parts": [],
            }
            self.busy = True
        elif event == "chunk" and self._incoming is not None:
            self._incoming["parts"].extend(bytes(b) for b in buffers or [])
            if len(self._incoming["parts"]) >= self._incoming["chunks"]:
                done, self._incoming = self._incoming, None
                self.receive(done["name"], b"".join(done["parts"]))

    def _too_large(self, name: str) -> str:
        return f"{name} is larger than {_size_words(self.max_bytes)}: it was not read."

    def receive(self, name: str, data: bytes) -> None:
        """A file arrived (from the browser, or a test): hand it on, say what happened."""
        self.busy = False
        if self.max_bytes and len(data) > self.max_bytes:
            self.say(self._too_large(name), error=True)
            return
        self.say("")
        try:
            self.on_upload(name, data)
        except (OSError, ValueError) as exc:
            self.say(str(exc), error=True)
