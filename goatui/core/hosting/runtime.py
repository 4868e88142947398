"""goatui's private runtime directory: launched plugins' sockets and host endpoints.

Mode 0700, under XDG_RUNTIME_DIR when set (else the temp dir), removed on exit. goatui
refuses a base directory that others can write without the sticky bit (someone could
swap our sockets).
"""

from __future__ import annotations

import os
import shutil
import stat
import tempfile
from pathlib import Path

from goatui.core.errors import UsageError


def _base_dir() -> Path:
    runtime = os.environ.get("XDG_RUNTIME_DIR")
    base = Path(runtime) if runtime else Path(tempfile.gettempdir())
    try:
        st = base.stat()
    except OSError as exc:
        raise UsageError(f"runtime dir {base} is not usable: {exc.strerror}") from None
    world_writable = st.st_mode & (stat.S_IWOTH | stat.S_IWGRP)
    if world_writable and not st.st_mode & stat.S_ISVTX:
        raise UsageError(
            f"refusing runtime dir {base}: others can write to it",
            f"run `chmod go-w {base}` or set XDG_RUNTIME_DIR to a private directory",
        )
    return base


class RuntimeDir:
    """A private directory that lives as long as this goatui."""

    def __init__(self) -> None:
        self.path = Path(tempfile.mkdtemp(prefix="goatui-", dir=_base_dir()))
        os.chmod(self.path, 0o700)

    def socket(self, name: str) -> Path:
        # Unix socket paths are limited to ~107 bytes; plugin names are short, but keep
        # the file name bounded anyway.
        safe = "".join(ch if ch.isalnum() or ch in "-_." else "_" for ch in name)[:40]
        return self.path / f"{safe}.sock"

    def remove(self) -> None:
        shutil.rmtree(self.path, ignore_errors=True)
