"""Processes as the kernel sees them (/proc), and reading a child's output with a deadline."""

from __future__ import annotations

import codecs
import os
import selectors
import time
from collections.abc import Callable
from pathlib import Path
from typing import IO


def alive(pid: int) -> bool:
    """Running and not a zombie, as the process table says."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return False
    return state != "Z"


def parent_of(pid: int) -> int:
    return int(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[1])


def children_of(pid: int) -> list[int]:
    """The processes whose parent is pid."""
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue
        if int(fields[1]) == pid:
            found.append(int(stat.parent.name))
    return found


def descendants_of(pid: int) -> list[int]:
    """Children, their children, and so on."""
    found: list[int] = []
    todo = [pid]
    while todo:
        children = children_of(todo.pop())
        found += children
        todo += children
    return found


def cmdline(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
    except OSError:
        return ""


def describe(pid: int) -> str:
    """What the process table says of pid (for a failing assertion)."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return f"{pid} (gone)"
    keep = ("State", "PPid", "SigIgn", "SigCgt", "SigBlk", "Threads")
    info = [line for line in status.splitlines() if line.split(":")[0] in keep]
    return f"{pid} {cmdline(pid)} {info}"


def wait_gone(pids: list[int], timeout: float = 10) -> list[str]:
    """[] once every pid is gone; else what the process table says of the survivors."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not any(alive(p) for p in pids):
            return []
        time.sleep(0.05)
    return [describe(p) for p in pids if alive(p)]


def wait_until(condition: Callable[[], object], what: str, timeout: float = 20) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"{what} not within {timeout:g}s")
        time.sleep(0.05)


def lines_until(stream: IO[str], done: Callable[[str], bool], timeout: float = 20) -> list[str]:
    """Lines of a child's output up to the first that is `done`; fails at the deadline or
    at the end of the stream, never hangs. Reads the file descriptor itself: do not mix
    with reads through `stream`."""
    lines: list[str] = []
    buffered = ""
    decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
    deadline = time.monotonic() + timeout
    with selectors.DefaultSelector() as selector:
        selector.register(stream, selectors.EVENT_READ)
        while True:
            while "\n" in buffered:
                line, buffered = buffered.split("\n", 1)
                lines.append(line)
                if done(line):
                    return lines
            left = deadline - time.monotonic()
            if left <= 0 or not selector.select(left):
                raise AssertionError(f"no such line within {timeout:g}s; read: {lines}")
            chunk = os.read(stream.fileno(), 65536)
            if not chunk:
                raise AssertionError(f"the output ended first; read: {[*lines, buffered]}")
            buffered += decoder.decode(chunk)
