"""A WASM plugin on its own thread, for the event loop.

wasm runs synchronously, so each plugin gets one worker thread: its calls queue there
in order (serialised, as GoatFlow's per-plugin mutex does) and the event loop only
awaits a future, so the console never blocks on a plugin. A call's deadline counts from
when it was asked, waiting in the queue included; a call cancelled while it waits never
runs. A call already running cannot be cut short from outside (wasmtime stores are not
shared between threads): its deadline ends it.

A plugin that calls a plugin (plugin_call) waits for it; one that calls itself, or
back into a plugin that is waiting for it, would wait until its deadline. The chain of
plugins a call came through travels with it (a context variable, carried onto the
plugin's thread and from there through the loop), so such a call fails at once.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import contextvars
import copy
import queue
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

from goatui.core.backends.wasm import abi
from goatui.core.backends.wasm.engine import WasmEngine, shared_engine
from goatui.core.backends.wasm.hostcalls import HostServices
from goatui.core.backends.wasm.instance import (
    DEFAULT_MAX_RESULT_BYTES,
    PluginInstance,
    Served,
)
from goatui.core.errors import GoatError, RemoteError, TimedOut, Unreachable

T = TypeVar("T")
_STOP = object()
#: What tells one version of a file from the next: modification time, size, inode.
FileSignature = tuple[int, int, int]


def file_signature(path: Path) -> FileSignature | None:
    try:
        st = path.stat()
    except OSError:
        return None
    return (st.st_mtime_ns, st.st_size, st.st_ino)


#: The WASM plugins the current call came through, outermost first.
CALL_CHAIN: contextvars.ContextVar[tuple[str, ...]] = contextvars.ContextVar(
    "goatui_wasm_call_chain", default=()
)


class PluginRunner:
    """One WASM plugin file: load it, call it, reload it, from the event loop."""

    def __init__(
        self,
        path: Path,
        services: HostServices,
        *,
        engine: WasmEngine | None = None,
        memory_mb: int = abi.DEFAULT_MEMORY_MB,
        max_result_bytes: int = DEFAULT_MAX_RESULT_BYTES,
        output_dir: Path | None = None,
    ) -> None:
        self.path = path
        self.engine = engine or shared_engine()
        self.instance = PluginInstance(
            path,
            self.engine,
            services,
            memory_mb=memory_mb,
            max_result_bytes=max_result_bytes,
            output_dir=output_dir,
        )
        #: A job (a load, a call) is running on the plugin's thread now.
        self.busy = False
        self._jobs: queue.SimpleQueue[Any] = queue.SimpleQueue()
        self._thread = threading.Thread(
            target=self._work, name=f"wasm-{path.stem}"[:40], daemon=True
        )
        self._thread.start()
        self._closed = False
        #: Why the last load failed (calls answer with it until a load works).
        self.failure: GoatError | None = None
        #: The file as it was when last loaded (see `file_signature`).
        self.loaded_signature: FileSignature | None = None
        #: How long the last call took, ms.
        self.last_call_ms: float | None = None

    @property
    def name(self) -> str:
        return self.instance.name

    @property
    def manifest(self) -> dict[str, Any]:
        return self.instance.manifest

    async def load(self, timeout: float) -> None:
        """Compile and start the plugin (again, for a reload). Raises GoatError, and
        keeps it: calls answer with it until a load works."""
        signature = file_signature(self.path)
        try:
            await self._submit(lambda deadline: self.instance.load(timeout), timeout)
        except GoatError as exc:
            self.failure = exc
            raise
        else:
            self.failure = None
        finally:
            self.loaded_signature = signature

    async def call(self, function: str, args: bytes, timeout: float) -> Served:
        """Call a handler. Raises GoatError (TimedOut once the deadline has passed)."""
        if self.failure is not None:
            raise copy.copy(self.failure)
        served = await self._submit(
            lambda deadline: self.instance.call(function, args, timeout, deadline), timeout
        )
        self.last_call_ms = served.duration_ms
        return served

    def changed_on_disk(self) -> bool:
        """Whether the file is not what was last loaded (rebuilt, replaced, removed)."""
        return file_signature(self.path) != self.loaded_signature

    async def _submit(self, job: Callable[[float], T], timeout: float) -> T:
        if self._closed:
            raise Unreachable(f"{self.name} is closed")
        chain = CALL_CHAIN.get()
        if self.name in chain:
            path = " → ".join((*chain, self.name))
            raise RemoteError(
                f"plugin_call cycle {path}: {self.name} is busy waiting for that answer",
                code="CYCLE",
            )
        deadline = time.monotonic() + timeout
        future: concurrent.futures.Future[T] = concurrent.futures.Future()
        # The job runs in a copy of the asker's context, with this plugin added to the chain.
        context = contextvars.copy_context()
        context.run(CALL_CHAIN.set, (*chain, self.name))

        def run() -> None:
            if not future.set_running_or_notify_cancel():
                return  # cancelled while it waited
            if time.monotonic() >= deadline:
                future.set_exception(
                    TimedOut(f"timed out after {timeout:g}s waiting for the plugin's earlier calls")
                )
                return
            self.busy = True
            try:
                future.set_result(context.run(job, deadline))
            except BaseException as exc:  # handed to the awaiting task, never lost
                future.set_exception(exc)
            finally:
                self.busy = False

        self._jobs.put(run)
        return await asyncio.wrap_future(future)

    def _work(self) -> None:
        while True:
            job = self._jobs.get()
            if job is _STOP:
                return
            job()

    async def close(self, timeout: float = 5.0) -> None:
        """Finish what is queued, close the instance, end the thread."""
        if self._closed:
            return
        self._closed = True
        done: concurrent.futures.Future[None] = concurrent.futures.Future()

        def finish() -> None:
            try:
                self.instance.close()
            finally:
                done.set_result(None)

        self._jobs.put(finish)
        self._jobs.put(_STOP)
        # A daemon thread: should it not finish in time, it cannot keep the process alive.
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(asyncio.wrap_future(done), timeout)
