"""Canaries: every private internal of Textual, wasmtime or the standard library goatui
relies on.

Textual is pinned to the minor version these were checked against (pyproject.toml).
Each test here fails, naming the internal, the day an upgrade renames it or changes
what goatui relies on it for; the fix then belongs in the module named.
"""

from __future__ import annotations

import argparse
import inspect
from typing import Any

import pytest
from textual import events
from textual.app import App, ComposeResult
from textual.css.query import NoMatches
from textual.drivers.linux_driver import LinuxDriver
from textual.widget import Widget
from textual.widgets import Input

from goatui.ui.keys import TextInput
from goatui.ui.terminal import TerminalOutput, hangup_safe

TEXTUAL = "a Textual internal changed: see"


def test_message_stop_sets_stop_propagation() -> None:
    """goatui.ui.keys.KeysInOrder reads `Message._stop_propagation` to learn whether the
    widget used a key."""
    event = events.Key("a", "a")
    assert event._stop_propagation is False, f"{TEXTUAL} goatui/ui/keys.py"
    event.stop()
    assert event._stop_propagation is True, f"{TEXTUAL} goatui/ui/keys.py"


def test_widgets_have_on_key() -> None:
    """KeysInOrder overrides `Widget._on_key` and calls it through super() (that Textual
    dispatches keys to it is proved by the key press below)."""
    assert inspect.iscoroutinefunction(Widget.__dict__.get("_on_key")), (
        f"{TEXTUAL} goatui/ui/keys.py (Widget._on_key)"
    )


class _Probe(App[None]):
    def __init__(self) -> None:
        super().__init__()
        self.handled: list[BaseException] = []

    def compose(self) -> ComposeResult:
        yield TextInput(id="field")

    def _handle_exception(self, error: Exception) -> None:
        self.handled.append(error)
        if self._exit and isinstance(error, NoMatches):
            return
        super()._handle_exception(error)

    def on_key(self, event: events.Key) -> None:
        if event.key == "f12":
            self.query_one("#missing")  # raises NoMatches


async def test_forwarded_keys_reach_the_focus_and_exceptions_reach_handle_exception() -> None:
    """TypedAheadKeys calls `Widget._forward_event`; GoatApp overrides
    `App._handle_exception` and reads `App._exit` (goatui/ui/app.py)."""
    app = _Probe()
    async with app.run_test() as pilot:
        field = app.query_one("#field", Input)
        field.focus()
        await pilot.pause()
        await pilot.press("a")  # through KeysInOrder._on_key
        field._forward_event(events.Key("b", "b"))
        await pilot.pause()
        assert field.value == "ab", f"{TEXTUAL} goatui/ui/keys.py (_on_key, _forward_event)"
        assert app._exit is False, f"{TEXTUAL} goatui/ui/app.py (App._exit)"
        app.exit()
        assert app._exit is True, f"{TEXTUAL} goatui/ui/app.py (App._exit)"
    failing = _Probe()
    with pytest.raises(NoMatches):
        async with failing.run_test() as pilot:
            failing.post_message(events.Key("f12", None))
            await pilot.pause()
    assert [type(e) for e in failing.handled] == [NoMatches], (
        f"{TEXTUAL} goatui/ui/app.py (App._handle_exception)"
    )
    assert list(inspect.signature(App._handle_exception).parameters) == ["self", "error"]


async def test_the_linux_driver_writes_through_its_file() -> None:
    """goatui.ui.terminal replaces `LinuxDriver._file`, the stream Textual's writer
    thread writes every frame to."""
    driver = hangup_safe(LinuxDriver)(App())
    assert isinstance(driver._file, TerminalOutput), f"{TEXTUAL} goatui/ui/terminal.py"
    start = inspect.getsource(LinuxDriver.start_application_mode)
    assert "WriterThread(self._file)" in start, f"{TEXTUAL} goatui/ui/terminal.py"


def test_argparse_hands_a_subcommand_to_parse_known_args() -> None:
    """goatui.cli.parser.Parser adds a command's options when argparse hands the command
    to its parser's `parse_known_args`, inserting them into `_actions` (both private to
    argparse's way of working)."""
    seen: list[str] = []

    class Recording(argparse.ArgumentParser):
        def parse_known_args(self, args: Any = None, namespace: Any = None) -> Any:
            seen.append(self.prog)
            return super().parse_known_args(args, namespace)

    parser = argparse.ArgumentParser(prog="top")
    sub = parser.add_subparsers(dest="command", parser_class=Recording)
    command = sub.add_parser("cmd")
    before = list(command._actions)
    command.add_argument("--x")
    assert command._actions[: len(before)] == before and command._actions[-1].dest == "x"
    parser.parse_args(["cmd", "--x", "1"])
    assert seen == ["top cmd"], "argparse changed: see goatui/cli/parser.py (Parser.defer)"


@pytest.mark.parametrize("args", [["call", "--help"], ["ls", "--timeout", "2"]])
def test_goatuis_deferred_options_still_parse(args: list[str]) -> None:
    from goatui.cli.parser import build_parser

    parser = build_parser()
    if "--help" in args:
        with pytest.raises(SystemExit):
            parser.parse_args(args)
    else:
        assert parser.parse_args(args).timeout == 2.0


def test_wasmtime_c_api_for_calls_memory_and_gk_log() -> None:
    """goatui/core/backends/wasm/fastabi.py calls exports, reads memory and defines gk.log
    with the wasmtime package's private `_ffi` (the C API's unchecked functions), the
    handles `Func._func`, `Memory._memory` and `Store._context()`, the `_from_ptr`
    constructors of errors and traps, and the exception slot of `_func`; wasmtime is
    pinned to one major version (pyproject.toml). tests/test_wasm_runtime.py checks that
    a real plugin goes through them."""
    import ctypes

    import wasmtime
    from wasmtime import _ffi, _func

    from goatui.core.backends.wasm import fastabi
    from goatui.core.backends.wasm.engine import WasmEngine

    where = "a wasmtime internal changed: see goatui/core/backends/wasm/fastabi.py"
    for name in (
        "wasmtime_func_unchecked_callback_t",
        "wasmtime_linker_define_func_unchecked",
        "wasmtime_func_call_unchecked",
        "wasmtime_caller_t",
        "wasmtime_memory_data",
        "wasmtime_memory_data_size",
        "wasm_trap_t",
        "wasmtime_error_t",
    ):
        assert hasattr(_ffi, name), f"{where} ({name})"
    assert ctypes.sizeof(_ffi.wasmtime_val_raw_t) == 16, where
    assert callable(getattr(_func, "maybe_raise_last_exn", None)), where
    assert callable(getattr(wasmtime.Trap, "_from_ptr", None)), where
    assert callable(getattr(wasmtime.WasmtimeError, "_from_ptr", None)), where
    assert fastabi.available(), where
    # Memories stay where they are as they grow (fastabi.LinearMemory keeps a view).
    engine = WasmEngine(cache=False)
    assert engine.fixed_memory, f"{where} (Config.memory_may_move)"
    store = wasmtime.Store(engine.engine)
    memory = wasmtime.Memory(store, wasmtime.MemoryType(wasmtime.Limits(1, None)))
    assert hasattr(memory, "_memory") and callable(getattr(store, "_context", None)), where
    base = ctypes.cast(memory.data_ptr(store), ctypes.c_void_p).value
    memory.grow(store, 200)
    assert ctypes.cast(memory.data_ptr(store), ctypes.c_void_p).value == base, where
    store.close()
