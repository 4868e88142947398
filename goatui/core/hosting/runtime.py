"""goatui's private runtime directory: launched plugins' sockets and host endpoints.

Mode 0700, under XDG_RUNTIME_DIR when set (else the temp dir), removed on exit. goatui
refuses a base directory that others can write without the sticky bit (someone could
swap our sockets).

Nothing is left behind even when goatui cannot clean up itself (SIGKILL, the OOM killer):
  * A watchdog process per runtime dir holds the read end of a pipe whose write end only
    goatui holds. However goatui dies, the kernel closes that pipe; the watchdog then
    kills the process group of every plugin goatui launched and still had running (a
    wrapper script's children too, which the parent-death signal does not reach) and
    removes the directory. It runs in its own session, so the terminal's Ctrl-C or
    hang-up reaches goatui, which ends in order, and never the watchdog.
  * Each dir records its goatui (pid and start time, in `goatui.pid`). When goatui makes
    a runtime dir, it removes the `goatui-*` dirs beside it that belong to this user and
    whose goatui is dead (after the watchdog was killed too, say). A dir without that
    record (one being made this instant, or an older goatui's) is left alone.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import stat
import subprocess
import sys
import tempfile
import threading
from pathlib import Path

from goatui.core.errors import UsageError

PREFIX = "goatui-"
OWNER_FILE = "goatui.pid"
_WATCHDOG_EXIT_WAIT_S = 2.0

# `python -I -S -c` (nothing from the environment or site-packages), stdin the pipe,
# argv[1] the runtime dir. "+PGID" / "-PGID" lines: a launched plugin's process group
# to kill if goatui dies / not any more (goatui stopped it itself).
_WATCHDOG = """
import os, shutil, signal, sys
signal.signal(signal.SIGINT, signal.SIG_IGN)
signal.signal(signal.SIGHUP, signal.SIG_IGN)
groups, pending = set(), b""
while chunk := os.read(0, 4096):
    *lines, pending = (pending + chunk).split(b"\\n")
    for line in lines:
        (groups.add if line[:1] == b"+" else groups.discard)(int(line[1:]))
for group in groups:
    try:
        os.killpg(group, signal.SIGKILL)
    except OSError:
        pass
shutil.rmtree(sys.argv[1], ignore_errors=True)
"""


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


def process_identity(pid: int) -> str | None:
    """ "PID START": one process, even after its pid is reused (START is when it began,
    from /proc; "-" where there is no /proc). None when no such process runs."""
    try:
        stat_line = Path(f"/proc/{pid}/stat").read_text()
    except FileNotFoundError:
        return None
    except OSError:
        stat_line = ""
    fields = stat_line.rsplit(")", 1)[-1].split()
    if len(fields) > 19:
        return f"{pid} {fields[19]}"  # field 22, starttime; 3 is the first after ")"
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return None
    except PermissionError:
        pass
    return f"{pid} -"


def _dead_owner(directory: Path) -> bool:
    """True only when the dir says which goatui made it and that goatui is gone."""
    try:
        recorded = (directory / OWNER_FILE).read_text().strip()
        pid = int(recorded.split()[0])
    except (OSError, ValueError, IndexError):
        return False
    return process_identity(pid) != recorded


def remove_stale(base: Path) -> list[Path]:
    """Remove the runtime dirs in base of this user's goatui processes that are dead."""
    removed = []
    try:
        entries = [e for e in os.scandir(base) if e.name.startswith(PREFIX)]
    except OSError:
        return []
    for entry in entries:
        try:
            st = entry.stat(follow_symlinks=False)
        except OSError:
            continue
        if not stat.S_ISDIR(st.st_mode) or st.st_uid != os.getuid():
            continue
        path = Path(entry.path)
        if _dead_owner(path):
            shutil.rmtree(path, ignore_errors=True)
            removed.append(path)
    return removed


class Watchdog:
    """The process that cleans up after goatui if goatui dies first (see the module doc)."""

    def __init__(self, directory: Path) -> None:
        self._lock = threading.Lock()  # stop() may come from the signal safety net too
        read_end, self._write_end = os.pipe()  # neither is inherited by launched plugins
        try:
            self.process: subprocess.Popen[bytes] | None = subprocess.Popen(
                [sys.executable, "-I", "-S", "-c", _WATCHDOG, str(directory)],
                stdin=read_end,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
                cwd="/",
                start_new_session=True,
            )
        except OSError:
            # No watchdog (no memory for a process, say): goatui still cleans up itself.
            self.process = None
            os.close(self._write_end)
        finally:
            os.close(read_end)

    def _send(self, line: str) -> None:
        with self._lock:
            if self.process is None:
                return
            # A watchdog that was killed takes nothing with it: goatui goes on without.
            with contextlib.suppress(OSError):
                os.write(self._write_end, line.encode() + b"\n")

    def guard(self, process_group: int) -> None:
        """Kill this process group should goatui die."""
        self._send(f"+{process_group}")

    def release(self, process_group: int) -> None:
        """goatui stopped this process group itself."""
        self._send(f"-{process_group}")

    def stop(self) -> None:
        """goatui is ending in order: the watchdog ends too (what is left it kills)."""
        with self._lock:
            process, self.process = self.process, None
            if process is None:
                return
            os.close(self._write_end)
        with contextlib.suppress(subprocess.TimeoutExpired):
            process.wait(_WATCHDOG_EXIT_WAIT_S)


class RuntimeDir:
    """A private directory that lives as long as this goatui."""

    def __init__(self) -> None:
        base = _base_dir()
        remove_stale(base)
        self.path = Path(tempfile.mkdtemp(prefix=PREFIX, dir=base))
        os.chmod(self.path, 0o700)
        (self.path / OWNER_FILE).write_text(f"{process_identity(os.getpid())}\n")
        self.watchdog = Watchdog(self.path)

    def socket(self, name: str) -> Path:
        # Unix socket paths are limited to ~107 bytes; plugin names are short, but keep
        # the file name bounded anyway.
        safe = "".join(ch if ch.isalnum() or ch in "-_." else "_" for ch in name)[:40]
        return self.path / f"{safe}.sock"

    def remove(self) -> None:
        shutil.rmtree(self.path, ignore_errors=True)
        self.watchdog.stop()
