"""One lock for the state files goatui appends to (the audit log, the call history).

Threads of one process take a lock per file; processes take an flock on the file. A
process that waited for the flock may find the file renamed (the audit log rotated) or
replaced (the history compacted) by the one before it: `open_locked` then opens the
file the path names now, so no line goes to a file nobody reads any more.
"""

from __future__ import annotations

import fcntl
import os
import threading
from pathlib import Path

_LOCKS: dict[Path, threading.Lock] = {}
_LOCKS_GUARD = threading.Lock()
# A path replaced this often while we waited means something is wrong: say so.
_REOPENS = 100


def thread_lock(path: Path) -> threading.Lock:
    """The lock this process's threads take before the flock (flock is per open file)."""
    with _LOCKS_GUARD:
        return _LOCKS.setdefault(path, threading.Lock())


def open_locked(path: Path) -> int:
    """An O_APPEND descriptor of path (created 0600; made 0600 if others could read
    it), holding an exclusive flock; closing it releases the lock. Raises OSError."""
    flags = os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_CLOEXEC
    for _ in range(_REOPENS):
        fd = os.open(path, flags, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            try:
                current = os.stat(path)
            except FileNotFoundError:
                current = None
            if current is not None and os.path.samestat(os.fstat(fd), current):
                if current.st_mode & 0o077:
                    os.fchmod(fd, 0o600)
                return fd
        except BaseException:
            os.close(fd)
            raise
        os.close(fd)  # renamed or replaced while we waited: lock the file there now
    raise OSError(f"{path} keeps being replaced; not written")


def write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view) :]
