"""Start plugins as GoatFlow does, watch them, and make sure none outlives goatui.

Each plugin's `grpc.binary` (relative to its directory) runs with
GOATFLOW_PLUGIN_SOCKET set to a socket in goatui's private runtime directory. A binary
ending in `.py` runs under the current interpreter (the demo plugins are Python).
Children die with goatui: SIGTERM then SIGKILL on a normal exit (to the plugin's whole
process group, so a wrapper script's children go too). If goatui itself is killed, the
kernel's parent-death signal (SIGKILL) ends each plugin, and the runtime dir's watchdog
(goatui.core.hosting.runtime) kills what is left in its process group.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from goatui.core.backends.sockets.discovery import InstalledPlugin
from goatui.core.errors import GoatError, UsageError
from goatui.core.hosting.runtime import RuntimeDir

OutputSink = Callable[[str, str, str], None]  # (plugin, "stdout"|"stderr", line)
ExitSink = Callable[["LaunchedPlugin"], None]  # after the process ended (exit_code set)
STOP_GRACE_S = 3.0
SOCKET_WAIT_S = 15.0
_PR_SET_PDEATHSIG = 1


# Run as its own process ahead of the plugin: asks the kernel to SIGKILL it when goatui
# dies, checks goatui did not die first, then becomes the plugin (same pid). SIGKILL, not
# SIGTERM: this only fires when goatui could not stop its plugins itself (it was
# killed), and the kernel may send it once per thread of the dying parent, which hangs
# plugins whose SIGTERM handler is not re-entrant. The signal goes when the thread that
# started the plugin ends: plugins start from the event loop's thread, which lives as
# long as goatui.
#
# Not preexec_fn: that runs Python in the forked child of a process full of gRPC
# threads, which Python documents as unsafe; once in a while a plugin died of SIGABRT
# before its exec ("exited with code -6 before serving"). Without it the child only
# execs.
_DEATH_SIGNAL_SHIM = f"""
import ctypes, os, sys
ctypes.CDLL(None, use_errno=True).prctl({_PR_SET_PDEATHSIG}, {int(signal.SIGKILL)}, 0, 0, 0)
if os.getppid() != int(sys.argv[1]):
    sys.exit(1)  # goatui is gone already
try:
    os.execv(sys.argv[2], sys.argv[2:])
except OSError as error:
    print(f"goatui: cannot run {{sys.argv[2]}}: {{error.strerror}}", file=sys.stderr)
    sys.exit(127)
"""


def with_death_signal(argv: list[str]) -> list[str]:
    """argv, run so that the plugin dies with goatui (Linux; elsewhere argv itself)."""
    if not sys.platform.startswith("linux"):
        return argv
    # -I -S: the shim needs nothing from the environment or site-packages; the plugin
    # still gets the environment it is given, unchanged, when the shim execs it.
    return [sys.executable, "-I", "-S", "-c", _DEATH_SIGNAL_SHIM, str(os.getpid()), *argv]


@dataclass
class LaunchedPlugin:
    name: str
    installed: InstalledPlugin
    socket: Path
    process: asyncio.subprocess.Process | None = None
    started_at: float = 0.0
    exit_code: int | None = None
    stopping: bool = False
    readers: list[asyncio.Task[None]] = field(default_factory=list)

    @property
    def running(self) -> bool:
        return self.process is not None and self.process.returncode is None

    @property
    def pid(self) -> int | None:
        return self.process.pid if self.process else None


def launchable(installed: InstalledPlugin) -> bool:
    """GoatFlow starts only manifests of type grpc."""
    return installed.manifest.raw.get("type") == "grpc"


def _signal_group(process: asyncio.subprocess.Process, signum: int) -> None:
    """Signal the plugin's process group (it leads its own), or the process itself."""
    _signal_pid_group(process.pid, signum)


def _signal_pid_group(pid: int, signum: int) -> None:
    try:
        os.killpg(pid, signum)
    except (ProcessLookupError, PermissionError):
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signum)


def _group_is_empty(group: int) -> bool:
    try:
        os.killpg(group, 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        pass
    return False


def _reaped(pid: int) -> bool:
    """True once the child is gone (reaping it here if nobody else has)."""
    try:
        done, _status = os.waitpid(pid, os.WNOHANG)
    except ChildProcessError:
        return True  # already reaped (by asyncio's child watcher)
    return done == pid


def command_for(installed: InstalledPlugin) -> list[str]:
    """The argument list that starts a plugin (never a shell string)."""
    binary = installed.binary
    if binary is None:
        raise UsageError(f"plugin {installed.name}: manifest names no grpc.binary")
    binary = binary.resolve()
    if not binary.is_file():
        raise UsageError(f"plugin {installed.name}: binary {binary} not found")
    if binary.suffix == ".py":
        return [sys.executable, str(binary)]
    if not os.access(binary, os.X_OK):
        raise UsageError(f"plugin {installed.name}: {binary} is not executable", "chmod +x it")
    return [str(binary)]


class Launcher:
    """The plugins this goatui started, by name."""

    def __init__(
        self,
        runtime: RuntimeDir,
        on_output: OutputSink | None = None,
        on_exit: ExitSink | None = None,
    ) -> None:
        self.runtime = runtime
        self.on_output = on_output
        self.on_exit = on_exit
        # How long a plugin gets between SIGTERM and SIGKILL.
        self.stop_grace = STOP_GRACE_S
        self.plugins: dict[str, LaunchedPlugin] = {}

    def sockets(self) -> list[str]:
        return [str(p.socket) for p in self.plugins.values()]

    async def start(self, installed: InstalledPlugin) -> LaunchedPlugin:
        """Start one plugin and wait for its socket. Raises GoatError if it does not come up."""
        launched = self.plugins.get(installed.name)
        if launched is None:
            launched = LaunchedPlugin(
                installed.name, installed, self.runtime.socket(installed.name)
            )
            self.plugins[installed.name] = launched
        if launched.running:
            return launched
        argv = command_for(installed)
        env = dict(os.environ, GOATFLOW_PLUGIN_SOCKET=str(launched.socket), PYTHONUNBUFFERED="1")
        launched.socket.unlink(missing_ok=True)
        launched.exit_code = None
        launched.stopping = False
        launched.process = await asyncio.create_subprocess_exec(
            *with_death_signal(argv),
            cwd=str(installed.directory),
            env=env,
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
            # Its own process group: goatui stops it (and anything it forked) itself,
            # rather than the terminal's Ctrl-C reaching it first.
            start_new_session=True,
        )
        launched.started_at = time.time()
        process = launched.process
        # It leads its own process group (start_new_session): the group's id is its pid.
        self.runtime.watchdog.guard(process.pid)
        launched.readers = [
            asyncio.create_task(self._pump(launched, process.stdout, "stdout")),
            asyncio.create_task(self._pump(launched, process.stderr, "stderr")),
        ]
        await self._wait_for_socket(launched)
        return launched

    async def _wait_for_socket(self, launched: LaunchedPlugin) -> None:
        deadline = time.monotonic() + SOCKET_WAIT_S
        while not launched.socket.exists():
            process = launched.process
            if process is not None and process.returncode is not None:
                launched.exit_code = process.returncode
                raise GoatError(
                    f"plugin {launched.name} exited with code {process.returncode} before serving",
                    "see its stderr in the logs",
                )
            if time.monotonic() > deadline:
                raise GoatError(f"plugin {launched.name} did not open its socket in time")
            await asyncio.sleep(0.05)

    async def _pump(
        self, launched: LaunchedPlugin, stream: asyncio.StreamReader | None, level: str
    ) -> None:
        if stream is None:
            return
        while True:
            try:
                raw = await stream.readline()
            except (ValueError, asyncio.LimitOverrunError):
                # A line longer than the reader's limit: drop the rest of it, keep going.
                raw = b"[line too long]\n"
            if not raw:
                break
            if self.on_output is not None:
                line = raw.decode("utf-8", errors="replace").rstrip("\n")
                self.on_output(launched.name, level, line)
        process = launched.process
        if process is not None and level == "stdout":
            launched.exit_code = await process.wait()
            if _group_is_empty(process.pid):
                # Nothing left to kill should goatui die, and the id may be reused.
                self.runtime.watchdog.release(process.pid)
            if self.on_exit is not None:
                self.on_exit(launched)

    async def stop(self, name: str, grace: float | None = None) -> None:
        grace = self.stop_grace if grace is None else grace
        launched = self.plugins.get(name)
        if launched is None or launched.process is None:
            return
        process = launched.process
        launched.stopping = True
        if process.returncode is None:
            _signal_group(process, signal.SIGTERM)
            try:
                await asyncio.wait_for(process.wait(), grace)
            except TimeoutError:
                _signal_group(process, signal.SIGKILL)
                await process.wait()
        # Whatever else is left in its group (a wrapper's children) goes now.
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(process.pid, signal.SIGKILL)
        self.runtime.watchdog.release(process.pid)
        launched.exit_code = process.returncode
        # Let the readers drain the last lines and report the exit, then stop waiting.
        readers = [t for t in launched.readers if not t.done()]
        if readers:
            await asyncio.wait(readers, timeout=0.5)
        for task in launched.readers:
            task.cancel()
        launched.socket.unlink(missing_ok=True)

    async def restart(self, name: str) -> LaunchedPlugin:
        launched = self.plugins[name]
        await self.stop(name)
        return await self.start(launched.installed)

    async def stop_all(self) -> None:
        await asyncio.gather(*(self.stop(n) for n in list(self.plugins)), return_exceptions=True)

    def terminate_all_now(self, grace: float | None = None) -> None:
        """Without an event loop (atexit): SIGTERM, wait up to grace, then SIGKILL."""
        grace = self.stop_grace if grace is None else grace
        pids = [
            p.process.pid
            for p in self.plugins.values()
            if p.process is not None and p.process.returncode is None
        ]
        for pid in pids:
            _signal_pid_group(pid, signal.SIGTERM)
        deadline = time.monotonic() + grace
        while pids and time.monotonic() < deadline:
            pids = [pid for pid in pids if not _reaped(pid)]
            if pids:
                time.sleep(0.02)
        for pid in pids:
            _signal_pid_group(pid, signal.SIGKILL)
            _reaped(pid)
        for launched in self.plugins.values():
            launched.socket.unlink(missing_ok=True)

    def kill_all_now(self) -> None:
        """Last resort, from a signal handler or atexit: no event loop needed."""
        for launched in self.plugins.values():
            process = launched.process
            if process is not None and process.returncode is None:
                _signal_group(process, signal.SIGKILL)
