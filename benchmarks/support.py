"""Helpers shared by the benchmarks: real plugin processes, timing, results."""

from __future__ import annotations

import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from goatui.core.backends.sockets.discovery import accepts_connections

REPO = Path(__file__).resolve().parent.parent
TEST_PLUGIN = REPO / "tests" / "plugins" / "testplugin.py"


@dataclass
class Result:
    """One benchmark row: what was measured, against what, the ratio and the goal."""

    name: str
    measured: str
    baseline: str
    ratio: float
    goal: str
    ok: bool
    note: str = ""


@contextmanager
def running_plugins(count: int = 1, **env: str) -> Iterator[list[Path]]:
    """`count` test plugin processes on sockets in a private temp dir."""
    directory = Path(tempfile.mkdtemp(prefix="gbench-", dir="/tmp"))
    processes = []
    sockets = []
    try:
        for index in range(count):
            path = directory / f"goatflow-plugin-p{index:03d}.sock"
            child_env = dict(
                os.environ,
                GOATFLOW_PLUGIN_SOCKET=str(path),
                TESTPLUGIN_NAME=f"p{index:03d}",
                PYTHONPATH=str(REPO),
                **env,
            )
            processes.append(
                subprocess.Popen(
                    [sys.executable, str(TEST_PLUGIN)],
                    env=child_env,
                    stdout=subprocess.DEVNULL,
                    stderr=subprocess.DEVNULL,
                )
            )
            sockets.append(path)
        for path in sockets:
            wait_for_socket(path)
        yield sockets
    finally:
        for process in processes:
            process.send_signal(signal.SIGTERM)
        for process in processes:
            try:
                process.wait(5)
            except subprocess.TimeoutExpired:
                process.kill()
        shutil.rmtree(directory, ignore_errors=True)


def wait_for_socket(path: Path, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if accepts_connections(path):
            return
        time.sleep(0.02)
    raise RuntimeError(f"no plugin at {path}")


def median_time(run: Callable[[], object], repeat: int) -> float:
    samples = []
    for _ in range(repeat):
        started = time.perf_counter()
        run()
        samples.append(time.perf_counter() - started)
    return statistics.median(samples)


def interleaved(
    a: Callable[[], object], b: Callable[[], object], repeat: int
) -> tuple[float, float]:
    """Median times of a and b, run alternately so machine noise hits both alike."""
    times_a, times_b = [], []
    for _ in range(repeat):
        for run, times in ((a, times_a), (b, times_b)):
            started = time.perf_counter()
            run()
            times.append(time.perf_counter() - started)
    return statistics.median(times_a), statistics.median(times_b)


def interleaved_processes(
    a: list[str], b: list[str], env: dict[str, str], repeat: int, warm: int = 2
) -> tuple[float, float]:
    """Median spawn-to-exit times of two commands run alternately, after `warm` runs of
    each to fill the bytecode and file caches."""

    def run_a() -> None:
        subprocess.run(a, env=env, check=True, capture_output=True)

    def run_b() -> None:
        subprocess.run(b, env=env, check=True, capture_output=True)

    for _ in range(warm):
        run_a(), run_b()
    return interleaved(run_a, run_b, repeat)


@contextmanager
def running_fleet(count: int) -> Iterator[list[Path]]:
    """`count` plugins on their own sockets, served by one bench process (fleet_server)."""
    directory = Path(tempfile.mkdtemp(prefix="gfleet-", dir="/tmp"))
    server = subprocess.Popen(
        [sys.executable, "-m", "benchmarks.fleet_server", str(directory), str(count)],
        cwd=REPO,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    try:
        assert server.stdout is not None
        if server.stdout.readline().strip() != "ready":
            raise RuntimeError("the fleet server did not start")
        sockets = [directory / f"goatflow-plugin-p{i:03d}.sock" for i in range(count)]
        for path in sockets:
            wait_for_socket(path)
        yield sockets
    finally:
        server.send_signal(signal.SIGTERM)
        try:
            server.wait(10)
        except subprocess.TimeoutExpired:
            server.kill()
        shutil.rmtree(directory, ignore_errors=True)


def bench_env(scratch: Path, **extra: str) -> dict[str, str]:
    """The environment for a measured goatui (and its baseline) process.

    No developer config, state or sockets leak in; bytecode is cached (an installed
    goatui has its .pyc files, while this tree often runs with PYTHONDONTWRITEBYTECODE).
    """
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in ("PYTHONDONTWRITEBYTECODE", "PYTHONPATH", "NO_COLOR")
        and not k.startswith(("GOATFLOW_", "GOATUI_", "XDG_"))
    }
    env.update(
        PYTHONPYCACHEPREFIX=str(scratch / "pyc"),
        XDG_CONFIG_HOME=str(scratch / "config"),
        XDG_STATE_HOME=str(scratch / "state"),
        TERM="xterm-256color",
        **extra,
    )
    return env


def cpu_seconds(pid: int) -> float:
    """User + system CPU of a process (all its threads) so far, from /proc."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


class PtyProcess:
    """A program on a pseudo-terminal of a given size, its output read as it comes.

    What the operator would see arrives on the pty: `seen_at(text)` is when a text first
    appeared, measured from spawn. The reader never stops draining, so the program
    never blocks on a full terminal.
    """

    def __init__(
        self,
        argv: list[str],
        env: dict[str, str],
        watch: Sequence[str] = (),
        size: tuple[int, int] = (120, 40),
    ) -> None:
        import fcntl
        import pty
        import struct
        import termios
        import threading

        master, slave = pty.openpty()
        columns, rows = size
        fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", rows, columns, 0, 0))
        self._master = master
        self._tail = b""
        self._found: dict[bytes, float] = {}
        # Registered before spawning: text shown early must not be missed.
        self._watch = [text.encode() for text in watch]
        self._lock = threading.Lock()
        self.started = time.perf_counter()
        self.process = subprocess.Popen(
            argv, env=env, stdin=slave, stdout=slave, stderr=slave, start_new_session=True
        )
        os.close(slave)
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        while True:
            try:
                chunk = os.read(self._master, 65536)
            except OSError:
                return
            if not chunk:
                return
            now = time.perf_counter()
            with self._lock:
                window = self._tail + chunk
                for marker in self._watch:
                    if marker not in self._found and marker in window:
                        self._found[marker] = now - self.started
                self._tail = window[-256:]

    def seen_at(self, text: str, timeout: float = 60) -> float:
        """Seconds from spawn until text (one of `watch`) was first written to the terminal."""
        marker = text.encode()
        assert marker in self._watch, "watch for it from the start"
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self._lock:
                if marker in self._found:
                    return self._found[marker]
            if self.process.poll() is not None:
                raise RuntimeError(f"{self.process.args[0]} exited with {self.process.returncode}")
            time.sleep(0.002)
        raise TimeoutError(f"{text!r} not shown within {timeout:g}s")

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(5)
        os.close(self._master)
