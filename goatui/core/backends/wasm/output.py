"""A WASM plugin's stdout and stderr, as lines in the log stream.

wazero's default module config throws them away; goatui keeps them (a plugin author's
`fmt.Println` is often all the logging they have). WASI writes to two named pipes in
goatui's private runtime directory; one thread per plugin reads them and hands each
line on, so a plugin that prints a lot never blocks on a full pipe and never makes
goatui hold more than one bounded line per stream.
"""

from __future__ import annotations

import contextlib
import itertools
import os
import select
import threading
from collections.abc import Callable
from pathlib import Path

#: The longest line kept; the rest of a longer one is cut (and said so).
MAX_LINE_BYTES = 16 * 1024
_READ_BYTES = 64 * 1024

LineSink = Callable[[str, str], None]  # (stream, line): "stdout" or "stderr"
# Two plugins may share a file name: the pipes' names must not.
_numbers = itertools.count(1)


class OutputPipes:
    """Two FIFOs for WASI to write to, drained into `sink` line by line."""

    def __init__(self, directory: Path, stem: str, sink: LineSink) -> None:
        self.paths: dict[str, Path] = {}
        self._read: dict[int, str] = {}
        self._keep_open: list[int] = []
        self._partial: dict[str, bytearray] = {}
        self._cut: dict[str, bool] = {}
        self._sink = sink
        number = next(_numbers)
        try:
            for stream in ("stdout", "stderr"):
                path = directory / f"wasm-{number}-{stem}.{stream}"
                path.unlink(missing_ok=True)
                os.mkfifo(path, 0o600)
                self.paths[stream] = path
                # Our own reader first, so WASI's open for writing does not wait; our own
                # writer kept open, so the reader sees no end before close().
                reader = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
                self._read[reader] = stream
                self._keep_open.append(os.open(path, os.O_WRONLY))
                self._partial[stream] = bytearray()
                self._cut[stream] = False
        except OSError:
            for fd in (*self._read, *self._keep_open):
                with contextlib.suppress(OSError):
                    os.close(fd)
            for made in self.paths.values():
                made.unlink(missing_ok=True)
            raise
        self._thread = threading.Thread(target=self._drain, name=f"wasm-out-{stem}", daemon=True)
        self._thread.start()

    def close(self) -> None:
        """Stop once everything written so far is read (WASI's ends must be closed first)."""
        for fd in self._keep_open:
            with contextlib.suppress(OSError):
                os.close(fd)
        self._keep_open = []
        self._thread.join(timeout=2.0)
        for path in self.paths.values():
            path.unlink(missing_ok=True)

    def _drain(self) -> None:
        open_fds = set(self._read)
        try:
            while open_fds:
                ready, _, _ = select.select(list(open_fds), [], [])
                for fd in ready:
                    try:
                        chunk = os.read(fd, _READ_BYTES)
                    except BlockingIOError:
                        continue
                    stream = self._read[fd]
                    if not chunk:
                        open_fds.discard(fd)
                        self._finish(stream)
                        continue
                    self._take(stream, chunk)
        finally:
            for fd in self._read:
                with contextlib.suppress(OSError):
                    os.close(fd)

    def _take(self, stream: str, chunk: bytes) -> None:
        partial = self._partial[stream]
        *lines, rest = chunk.split(b"\n")
        for piece in lines:
            self._append(stream, partial, piece)
            self._emit(stream, bytes(partial))
            partial.clear()
            self._cut[stream] = False
        self._append(stream, partial, rest)

    def _append(self, stream: str, partial: bytearray, piece: bytes) -> None:
        room = MAX_LINE_BYTES - len(partial)
        if len(piece) > room:
            partial += piece[: max(room, 0)]
            self._cut[stream] = True
        else:
            partial += piece

    def _emit(self, stream: str, line: bytes) -> None:
        text = line.decode("utf-8", errors="replace").rstrip("\r")
        if self._cut[stream]:
            text += " … (line cut)"
        with contextlib.suppress(Exception):  # the sink's trouble must not stop the drain
            self._sink(stream, text)

    def _finish(self, stream: str) -> None:
        partial = self._partial[stream]
        if partial:
            self._emit(stream, bytes(partial))
            partial.clear()
