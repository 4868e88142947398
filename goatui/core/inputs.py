"""Reading what an operator points goatui at: files, stdin, FIFOs, devices, never unbounded.

`call … @/dev/zero` once grew goatui to 23.7 GB before the kernel killed it; so did
`-` (stdin), `--config` and token files fed an endless stream. Every such input is read
here against a limit: one byte past it and the read stops with a UsageError (exit 2)
naming the input and the limit, so memory stays bounded whatever is on the other end.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import BinaryIO

from goatui.core.errors import UsageError
from goatui.core.limits import MiB
from goatui.core.sanitize import sanitize_line

_CHUNK = 64 * 1024


def size_text(limit: int) -> str:
    """1 MiB, 64 KiB, 300 bytes."""
    if limit >= MiB and limit % MiB == 0:
        return f"{limit // MiB} MiB"
    if limit >= 1024 and limit % 1024 == 0:
        return f"{limit // 1024} KiB"
    return f"{limit} bytes"


def read_stream(stream: BinaryIO, *, limit: int, what: str, hint: str = "") -> bytes:
    """At most limit bytes from stream, or UsageError when it holds more."""
    chunks: list[bytes] = []
    size = 0
    while True:
        chunk = stream.read(min(_CHUNK, limit + 1 - size))
        if not chunk:
            return b"".join(chunks)
        chunks.append(chunk)
        size += len(chunk)
        if size > limit:
            raise UsageError(f"{what} is larger than the {size_text(limit)} limit", hint)


def read_file(path: str | Path, *, limit: int, what: str, hint: str = "") -> bytes:
    """At most limit bytes of the file at path (a FIFO or a device too); UsageError when
    it cannot be read or holds more."""
    try:
        with open(path, "rb") as file:
            return read_stream(file, limit=limit, what=what, hint=hint)
    except OSError as exc:
        raise UsageError(f"cannot read {what}: {exc.strerror or exc}") from None


def decode_text(data: bytes, what: str) -> str:
    """UTF-8 text, or UsageError naming where the first bad byte is."""
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise UsageError(
            f"{what} is not UTF-8 text (byte 0x{data[exc.start]:02x} at offset {exc.start})"
        ) from None


def read_text_file(path: str | Path, *, limit: int, what: str, hint: str = "") -> str:
    return decode_text(read_file(path, limit=limit, what=what, hint=hint), what)


def read_stdin_text(*, limit: int, what: str = "stdin", hint: str = "") -> str:
    """Standard input as UTF-8 text, at most limit bytes."""
    try:
        stream = getattr(sys.stdin, "buffer", None)
        if stream is None:  # replaced by a text stream (tests): read its text, bounded alike
            text = sys.stdin.read(limit + 1)
            if len(text.encode("utf-8", "surrogatepass")) > limit:
                raise UsageError(f"{what} is larger than the {size_text(limit)} limit", hint)
            return text
        data = read_stream(stream, limit=limit, what=what, hint=hint)
    except OSError as exc:  # closed, or not readable
        raise UsageError(f"cannot read {what}: {exc.strerror or exc}") from None
    return decode_text(data, what)


def shown_path(path: str | os.PathLike[str]) -> str:
    """A path as an error message may show it (it may hold anything a file name can)."""
    return sanitize_line(os.fspath(path))
