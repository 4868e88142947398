"""The WASM runtime on real modules: loading as wazero does, the ABI, faults, threads,
the compiled-module cache.

Modules: tests/wasm/command.c (a command module: _start, then proc_exit(0)),
tests/wasm/reactor.c (_initialize), tests/wasm/faults.wat (handlers that loop, trap,
read out of bounds, allocate without end), the demo's ticket-stats, and small WAT
modules written here for what cannot load.
"""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import time
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from helpers.wasm import (
    COMMAND,
    DEMO,
    REACTOR,
    REPO,
    Hosting,
    faults_module,
    shared_test_engine,
    wat_file,
)

from goatui.core.backends.wasm import abi
from goatui.core.backends.wasm.instance import NotAPlugin, PluginOutOfMemory, PluginTrapped
from goatui.core.errors import ExitCode, ResultTooLarge, TimedOut, UsageError


@pytest.fixture
async def hosting() -> AsyncIterator[Hosting]:
    hosting = Hosting.start(shared_test_engine())
    yield hosting
    await hosting.close()


# -- loading -------------------------------------------------------------------------------


async def test_command_module_runs_start_and_its_proc_exit_0_is_no_failure(
    hosting: Hosting,
) -> None:
    runner = await hosting.load(COMMAND)
    # The manifest exists only because _start ran main (which ended in exit(0)).
    assert runner.name == "command-test"
    assert runner.manifest["description"] == "set up by _start"
    served = await runner.call("echo", b'{"a": 1}', 5)
    assert served.data == b'{"a": 1}'


async def test_reactor_module_runs_initialize(hosting: Hosting) -> None:
    runner = await hosting.load(REACTOR)
    assert runner.name == "reactor-test"
    assert (await runner.call("ping", b"", 5)).data == b'{"pong":true}'


async def test_the_file_name_is_the_name_until_the_module_registers(
    hosting: Hosting, tmp_path: Path
) -> None:
    # hello.wasm registers as hello-wasm in GoatFlow; here command.wasm as command-test.
    copy = tmp_path / "hello.wasm"
    copy.write_bytes(COMMAND.read_bytes())
    runner = await hosting.load(copy)
    assert runner.name == "command-test"
    assert runner.instance.path.name == "hello.wasm"


async def test_demo_plugin_loads_with_widgets_jobs_and_translations(hosting: Hosting) -> None:
    runner = await hosting.load(DEMO)
    manifest = runner.manifest
    assert runner.name == "ticket-stats"
    assert [w["handler"] for w in manifest["widgets"]] == ["overview_widget"]
    assert manifest["jobs"][0]["schedule"] == "*/10 * * * *"
    assert set(manifest["i18n"]["translations"]) == {"en", "de"}


_MEMORY_AND_ALLOC = """
  (memory (export "memory") 1)
  (func (export "gk_malloc") (param i32) (result i32) (i32.const 1024))
"""
_REGISTER = """
  (data (i32.const 16) "{\\"name\\":\\"x\\"}")
  (func (export "gk_register") (result i64) (i64.const 0x100000000C))
"""
_CALL = """
  (func (export "gk_call") (param i32 i32 i32 i32) (result i64) (i64.const 0))
"""


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (_MEMORY_AND_ALLOC + _CALL, "it has no gk_register export"),
        (_MEMORY_AND_ALLOC + _REGISTER, "it has no gk_call export"),
        (
            '(memory (export "memory") 1)' + _REGISTER + _CALL,
            "it has no gk_malloc export",
        ),
        (
            _MEMORY_AND_ALLOC.replace('(memory (export "memory") 1)', "(memory 1)")
            + _REGISTER
            + _CALL,
            "it exports no memory",
        ),
        (
            _MEMORY_AND_ALLOC
            + _REGISTER
            + '(func (export "gk_call") (param i32 i32) (result i64) (i64.const 0))',
            "gk_call is (i32, i32) -> (i64), not (i32, i32, i32, i32) -> (i64)",
        ),
    ],
    ids=["no-register", "no-call", "no-malloc", "no-memory", "wrong-signature"],
)
async def test_a_module_without_the_abi_is_refused_with_the_reason(
    hosting: Hosting, tmp_path: Path, body: str, reason: str
) -> None:
    path = wat_file(tmp_path, "broken", f"(module {body})")
    with pytest.raises(NotAPlugin) as caught:
        await hosting.load(path)
    assert caught.value.line() == f"broken.wasm is not a GoatFlow plugin: {reason}"
    assert caught.value.exit_code == ExitCode.USAGE


async def test_every_missing_export_is_named_at_once(hosting: Hosting, tmp_path: Path) -> None:
    path = wat_file(tmp_path, "empty", "(module)")
    with pytest.raises(NotAPlugin) as caught:
        await hosting.load(path)
    assert caught.value.message == (
        "empty.wasm is not a GoatFlow plugin: it has no gk_register export; it has no "
        "gk_call export; it has no gk_malloc export; it exports no memory"
    )


async def test_an_import_goatflow_does_not_provide_is_refused(
    hosting: Hosting, tmp_path: Path
) -> None:
    body = '(import "env" "now" (func (result i64)))' + _MEMORY_AND_ALLOC + _REGISTER + _CALL
    path = wat_file(tmp_path, "needs-env", f"(module {body})")
    with pytest.raises(NotAPlugin, match=r"it imports env\.now, which GoatFlow does not provide"):
        await hosting.load(path)


@pytest.mark.parametrize(
    ("manifest", "reason"),
    [
        ("not json at all", "gk_register did not return JSON: Expecting value"),
        ("[1, 2, 3]", "gk_register returned JSON that is not an object, not a JSON manifest"),
    ],
)
async def test_a_manifest_that_is_not_a_json_object_is_refused(
    hosting: Hosting, tmp_path: Path, manifest: str, reason: str
) -> None:
    length = len(manifest)
    body = (
        _MEMORY_AND_ALLOC
        + f'(data (i32.const 16) "{manifest}")'
        + f'(func (export "gk_register") (result i64) (i64.const {(16 << 32) | length}))'
        + _CALL
    )
    path = wat_file(tmp_path, "bad-manifest", f"(module {body})")
    with pytest.raises(NotAPlugin) as caught:
        await hosting.load(path)
    assert caught.value.message.startswith(f"bad-manifest.wasm: {reason}")


async def test_a_module_whose_register_answers_nothing_is_refused(
    hosting: Hosting, tmp_path: Path
) -> None:
    body = _MEMORY_AND_ALLOC + '(func (export "gk_register") (result i64) (i64.const 0))' + _CALL
    path = wat_file(tmp_path, "silent", f"(module {body})")
    with pytest.raises(NotAPlugin, match="gk_register returned nothing, not a JSON manifest"):
        await hosting.load(path)


async def test_a_module_needing_more_memory_than_the_limit_is_refused(
    hosting: Hosting, tmp_path: Path
) -> None:
    body = _MEMORY_AND_ALLOC.replace('"memory") 1)', '"memory") 300)') + _REGISTER + _CALL
    path = wat_file(tmp_path, "big-memory", f"(module {body})")
    with pytest.raises(NotAPlugin) as caught:
        await hosting.load(path)
    assert caught.value.line().startswith("big-memory.wasm cannot start: ")
    assert caught.value.line().endswith("; raise wasm_memory_mb")
    assert (await hosting.load(path, memory_mb=20)).name == "x"


async def test_a_file_that_is_not_webassembly_is_refused(hosting: Hosting, tmp_path: Path) -> None:
    path = tmp_path / "script.wasm"
    path.write_text("#!/bin/sh\necho hi\n")
    with pytest.raises(NotAPlugin, match=r"^script\.wasm is not a WebAssembly module: "):
        await hosting.load(path)


async def test_a_missing_file_is_a_usage_error(hosting: Hosting, tmp_path: Path) -> None:
    with pytest.raises(UsageError, match=r"cannot read .*nope\.wasm: No such file"):
        await hosting.load(tmp_path / "nope.wasm")


_PLUGIN_WITH_START = (
    _MEMORY_AND_ALLOC
    + _REGISTER
    + _CALL
    + '(import "wasi_snapshot_preview1" "proc_exit" (func $exit (param i32)))'
)


async def test_a_start_that_exits_with_an_error_fails_the_load(
    hosting: Hosting, tmp_path: Path
) -> None:
    body = _PLUGIN_WITH_START + '(func (export "_start") (call $exit (i32.const 3)))'
    # Imports come first in the text format.
    body = body.replace(
        '(import "wasi_snapshot_preview1" "proc_exit" (func $exit (param i32)))', ""
    )
    text = (
        '(module (import "wasi_snapshot_preview1" "proc_exit" (func $exit (param i32)))'
        + body
        + ")"
    )
    path = wat_file(tmp_path, "exits", text)
    with pytest.raises(PluginTrapped, match="the module exited with code 3 while starting"):
        await hosting.load(path)


async def test_a_start_that_loops_is_stopped_at_the_deadline(
    hosting: Hosting, tmp_path: Path
) -> None:
    body = _MEMORY_AND_ALLOC + _REGISTER + _CALL + '(func (export "_start") (loop $l (br $l)))'
    path = wat_file(tmp_path, "start-loops", f"(module {body})")
    with pytest.raises(TimedOut, match=r"starting the module: timed out after 0\.3s"):
        await hosting.load(path, timeout=0.3)


# -- calls -------------------------------------------------------------------------------


async def test_calls_without_args_pass_zero_pointers(hosting: Hosting) -> None:
    runner = await hosting.load(COMMAND)
    # echo answers "{}" for args_len 0 (what a job gets), and its args otherwise.
    assert (await runner.call("echo", b"", 5)).data == b"{}"
    assert (await runner.call("echo", b"[1]", 5)).data == b"[1]"


async def test_an_empty_result_is_empty(hosting: Hosting) -> None:
    runner = await hosting.load(COMMAND)
    assert (await runner.call("empty", b"{}", 5)).data == b""


async def test_plugin_state_lasts_between_calls(hosting: Hosting) -> None:
    runner = await hosting.load(COMMAND)
    counts = [json.loads((await runner.call("count", b"{}", 5)).data)["calls"] for _ in range(3)]
    assert counts == [1, 2, 3]


async def test_the_demo_answers_unknown_functions_as_goatflow_plugins_do(
    hosting: Hosting,
) -> None:
    runner = await hosting.load(DEMO)
    served = await runner.call("nope\x1b[2J", b"{}", 5)
    assert json.loads(served.data) == {"error": "unknown function: nope\x1b[2J"}


async def test_a_result_outside_the_plugins_memory_is_an_error(hosting: Hosting) -> None:
    runner = await hosting.load(COMMAND)
    with pytest.raises(PluginTrapped, match="outside the plugin's memory"):
        await runner.call("outside", b"{}", 5)


async def test_a_result_above_the_limit_is_refused(hosting: Hosting) -> None:
    runner = await hosting.load(COMMAND, max_result_bytes=1000)
    assert len((await runner.call("big", b'{"bytes": 1000}', 5)).data) == 1000
    with pytest.raises(ResultTooLarge) as caught:
        await runner.call("big", b'{"bytes": 1001}', 5)
    assert caught.value.line() == (
        "big: the result (1001 B) is larger than the 1000 B limit; raise it with --max-message-mb"
    )


# -- faults --------------------------------------------------------------------------------


async def test_a_looping_call_times_out_and_the_next_call_works(
    hosting: Hosting, tmp_path: Path
) -> None:
    runner = await hosting.load(faults_module(tmp_path))
    with pytest.raises(TimedOut) as caught:
        await runner.call("spin", b"{}", 0.3)
    assert caught.value.line() == "calling spin: timed out after 0.3s"
    assert caught.value.exit_code == ExitCode.UNREACHABLE
    assert (await runner.call("echo", b"after", 5)).data == b"after"
    assert runner.instance.instantiations == 2  # a fresh instance after the fault


@pytest.mark.parametrize(
    ("function", "message"),
    [
        ("crash", "trap while calling crash: wasm trap: wasm `unreachable` instruction executed"),
        ("oob", "trap while calling oob: wasm trap: out of bounds memory access; memory fault"),
    ],
)
async def test_a_trap_is_the_plugins_error_and_the_next_call_works(
    hosting: Hosting, tmp_path: Path, function: str, message: str
) -> None:
    runner = await hosting.load(faults_module(tmp_path))
    with pytest.raises(PluginTrapped) as caught:
        await runner.call(function, b"{}", 5)
    assert caught.value.line().startswith(message)
    assert "\n" not in caught.value.line()
    assert caught.value.exit_code == ExitCode.REMOTE_ERROR
    assert (await runner.call("echo", b"next", 5)).data == b"next"


async def test_a_trap_names_the_function_when_the_module_has_names(hosting: Hosting) -> None:
    runner = await hosting.load(COMMAND)
    with pytest.raises(PluginTrapped, match=r"exited with code 3 while calling exit"):
        await runner.call("exit", b"{}", 5)
    assert (await runner.call("count", b"{}", 5)).data == b'{"calls":1}'  # fresh instance


async def test_allocating_without_end_stops_at_the_memory_limit(
    hosting: Hosting, tmp_path: Path
) -> None:
    runner = await hosting.load(faults_module(tmp_path), memory_mb=4)
    with pytest.raises(PluginTrapped, match="unreachable"):
        await runner.call("hog", b"{}", 10)
    # The plugin's gk_malloc failed inside the module at 4 MiB; nothing more was given.
    assert runner.instance.memory_bytes == 4 * 1024 * 1024
    assert (await runner.call("echo", b"alive", 5)).data == b"alive"


async def test_args_larger_than_the_plugins_memory_fail_without_harm(hosting: Hosting) -> None:
    runner = await hosting.load(COMMAND, memory_mb=2)
    with pytest.raises(PluginOutOfMemory) as caught:
        await runner.call("echo", b"x" * (3 * 1024 * 1024), 5)
    assert caught.value.line() == (
        "the plugin could not allocate 3,145,728 bytes for the args "
        "(gk_malloc returned 0; memory limit 2 MiB)"
    )
    assert (await runner.call("echo", b"small", 5)).data == b"small"


def test_the_default_memory_limit_is_goatflows() -> None:
    assert abi.DEFAULT_MEMORY_PAGES == 256
    assert abi.DEFAULT_MEMORY_MB == 16


# -- threads -------------------------------------------------------------------------------


async def test_the_event_loop_runs_while_a_plugin_loops(hosting: Hosting, tmp_path: Path) -> None:
    runner = await hosting.load(faults_module(tmp_path))
    ticks = 0

    async def ticker() -> None:
        nonlocal ticks
        while True:
            ticks += 1
            await asyncio.sleep(0.01)

    task = asyncio.create_task(ticker())
    with pytest.raises(TimedOut):
        await runner.call("spin", b"{}", 0.5)
    task.cancel()
    assert ticks >= 10  # the loop kept running while wasm spun on its thread


async def test_calls_into_one_plugin_are_serialised_and_wait_within_their_deadline(
    hosting: Hosting, tmp_path: Path
) -> None:
    runner = await hosting.load(faults_module(tmp_path))
    spin = asyncio.create_task(runner.call("spin", b"{}", 0.5))
    await asyncio.sleep(0.05)  # let it start: the next call queues behind it
    # Its deadline passes while it waits: it never runs.
    with pytest.raises(TimedOut, match="waiting for the plugin's earlier calls"):
        await runner.call("echo", b"late", 0.2)
    queued = asyncio.create_task(runner.call("echo", b"queued", 5))
    with pytest.raises(TimedOut):
        await spin
    assert (await queued).data == b"queued"


async def test_other_plugins_go_on_while_one_loops(hosting: Hosting, tmp_path: Path) -> None:
    looping = await hosting.load(faults_module(tmp_path))
    other = await hosting.load(REACTOR)
    spin = asyncio.create_task(looping.call("spin", b"{}", 1.5))
    await asyncio.sleep(0.05)
    assert (await other.call("ping", b"", 5)).data == b'{"pong":true}'
    assert not spin.done()  # answered while the other plugin still spun
    with pytest.raises(TimedOut):
        await spin


async def test_a_call_cancelled_while_it_waits_never_runs(hosting: Hosting, tmp_path: Path) -> None:
    runner = await hosting.load(COMMAND)
    faults = await hosting.load(faults_module(tmp_path))
    assert faults is not runner
    blocker = asyncio.create_task(runner.call("echo", b"first", 5))
    waiting = asyncio.create_task(runner.call("count", b"{}", 5))
    waiting.cancel()
    await blocker
    with pytest.raises(asyncio.CancelledError):
        await waiting
    # Only echo and this count ran.
    assert (await runner.call("count", b"{}", 5)).data == b'{"calls":2}'


# -- calls, memory and gk.log through wasmtime's C API --------------------------------------


async def test_calls_and_gk_log_take_the_fast_path(hosting: Hosting) -> None:
    """fastabi uses the wasmtime package's private _ffi; this fails the day it changes."""
    runner = await hosting.load(COMMAND)
    assert runner.instance.fast_log and runner.instance.fast_calls
    await runner.call("log", b'{"level": 2, "message": "fast"}', 5)
    said = [(e.level, e.message) for e in hosting.logs("command-test") if e.level != "stdout"]
    assert said == [("warn", "fast")]


async def test_memory_that_grows_during_a_call_is_read_and_written_where_it_is(
    hosting: Hosting, tmp_path: Path
) -> None:
    """The faults module starts with one page and grows in gk_malloc: args, the result
    and a host call's answer land beyond the size goatui saw first."""
    runner = await hosting.load(faults_module(tmp_path))
    first = runner.instance._memory
    assert first is not None and first.fits(0, 65_536) and not first.fits(0, 65_537)
    for size in (100_000, 700_000, 3_000_000):
        args = bytes(range(256)) * (size // 256)
        assert (await runner.call("echo", args, 5)).data == args


async def test_gk_log_while_the_module_starts_reads_the_callers_memory(
    hosting: Hosting, tmp_path: Path
) -> None:
    """A start section runs inside instantiation, before goatui knows the exports."""
    text = (
        '(module (import "gk" "log" (func $log (param i32 i32 i32)))'
        + _MEMORY_AND_ALLOC
        + _REGISTER
        + _CALL
        + '(data (i32.const 64) "hello from start")'
        + "(func $s (call $log (i32.const 1) (i32.const 64) (i32.const 16))) (start $s))"
    )
    runner = await hosting.load(wat_file(tmp_path, "starter", text))
    assert runner.name == "x"
    said = [(e.plugin, e.level, e.message) for e in hosting.logs()]
    assert said == [("starter", "info", "hello from start")]


async def test_without_the_c_api_the_public_one_does_the_same(
    hosting: Hosting, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Where the wasmtime package lacks what fastabi uses, the instance goes the public
    way: calls, memory, gk.log, host calls, traps and deadlines all work the same."""
    from goatui.core.backends.wasm import fastabi

    monkeypatch.setattr(fastabi, "_AVAILABLE", False)
    runner = await hosting.load(COMMAND)
    assert not runner.instance.fast_log and not runner.instance.fast_calls
    assert (await runner.call("echo", b'{"a": 1}', 5)).data == b'{"a": 1}'
    await runner.call("log", b'{"level": 3, "message": "public"}', 5)
    assert ("error", "public") in [(e.level, e.message) for e in hosting.logs("command-test")]
    faults = await hosting.load(faults_module(tmp_path))
    args = b"y" * 200_000
    assert (await faults.call("echo", args, 5)).data == args
    with pytest.raises(PluginTrapped):
        await faults.call("crash", b"", 5)
    with pytest.raises(TimedOut):
        await faults.call("spin", b"", 0.3)
    assert (await faults.call("echo", b"again", 5)).data == b"again"


async def test_gk_log_outside_memory_is_said_not_read(hosting: Hosting, tmp_path: Path) -> None:
    body = (
        '(import "gk" "log" (func $log (param i32 i32 i32)))'
        + _MEMORY_AND_ALLOC
        + _REGISTER
        + '(func (export "gk_call") (param i32 i32 i32 i32) (result i64)'
        + "  (call $log (i32.const 1) (i32.const 65000) (i32.const 1000)) (i64.const 0))"
    )
    runner = await hosting.load(wat_file(tmp_path, "reckless", f"(module {body})"))
    assert (await runner.call("x", b"", 5)).data == b""
    entry = hosting.logs("x")[-1]
    assert (entry.level, entry.message) == (
        "warn",
        "gk.log with a message outside the plugin's memory",
    )


async def test_host_call_pointers_are_unsigned_and_a_negative_length_is_refused(
    hosting: Hosting, tmp_path: Path
) -> None:
    """wasm's i32 pointers are unsigned: -8 is 0xfffffff8, past the memory, not "8 bytes
    before its end" (Python's negative slice read the plugin's last bytes as the
    function's name); a negative length is no length."""
    for ptr, length in ((-8, 4), (16, -4)):
        body = (
            '(import "gk" "host_call" (func $host (param i32 i32 i32 i32) (result i64)))'
            + _MEMORY_AND_ALLOC
            + _REGISTER
            + '(func (export "gk_call") (param i32 i32 i32 i32) (result i64)'
            + f"  (drop (call $host (i32.const {ptr}) (i32.const {length}) (i32.const 0)"
            + "    (i32.const 0))) (i64.const 0))"
        )
        name = f"negative{abs(ptr)}"
        runner = await hosting.load(wat_file(tmp_path, name, f"(module {body})"))
        assert (await runner.call("x", b"", 5)).data == b""
        entry = hosting.logs("x")[-1]
        assert entry.message == "host_call failed: its arguments are outside the plugin's memory"


# -- output --------------------------------------------------------------------------------


async def test_stdout_and_stderr_become_log_lines(hosting: Hosting) -> None:
    runner = await hosting.load(COMMAND)
    await runner.call("print", b"{}", 5)
    deadline = time.monotonic() + 5
    wanted = {("stdout", "to stdout from a call"), ("stderr", "to stderr from a call")}
    while time.monotonic() < deadline:
        seen = {(e.level, e.message) for e in hosting.logs("command-test")}
        if wanted <= seen:
            break
        await asyncio.sleep(0.02)
    assert wanted <= seen
    started = [e for e in hosting.logs() if e.message == "command-test started"]
    assert started and started[0].level == "stdout"


# -- the compiled-module cache ------------------------------------------------------------


_LOAD_TWICE = """
import sys, time
from pathlib import Path
from goatui.core.backends.wasm.engine import WasmEngine
import wasmtime

engine = WasmEngine()
print(engine.cache_dir, engine.cache_problem)
wasmtime.Module.from_file(engine.engine, sys.argv[1])
# wasmtime counts cache hits in a .stats file beside the compiled code, from a thread.
want = int(sys.argv[2])
deadline = time.monotonic() + 10
while time.monotonic() < deadline:
    stats = list(Path(engine.cache_dir).rglob("*.stats"))
    usages = [int(line.split("=")[1]) for s in stats for line in s.read_text().splitlines()
              if line.startswith("usages")]
    if usages and max(usages) >= want:
        break
    time.sleep(0.02)
print(len(stats), usages)
"""


def test_a_second_start_uses_the_compiled_code_from_the_cache(tmp_path: Path) -> None:
    env = dict(os.environ, XDG_CACHE_HOME=str(tmp_path / "cache"), PYTHONPATH=str(REPO))
    runs = [
        subprocess.run(
            [sys.executable, "-c", _LOAD_TWICE, str(DEMO), str(n)],
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
        )
        for n in (1, 2)
    ]
    for run in runs:
        assert run.returncode == 0, run.stderr
        assert "panicked" not in run.stderr
    cache_dir = tmp_path / "cache" / "goatui" / "wasmtime"
    assert runs[0].stdout.splitlines()[0] == f"{cache_dir} "
    # One compiled module, used twice: the second start did not compile again.
    assert runs[0].stdout.splitlines()[1] == "1 [1]"
    assert runs[1].stdout.splitlines()[1] == "1 [2]"
    assert oct((cache_dir).stat().st_mode & 0o777) == "0o700"
