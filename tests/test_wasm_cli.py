"""WASM plugins through the CLI: --wasm, --plugins-dir, every command, faults, --trace.

Most runs are in-process (`cli`, main() with the output read at the file descriptors);
the ones that check what the operator's shell gets (exit codes, no traceback, no
wasmtime noise at exit) run goatui as its own process.
"""

from __future__ import annotations

import json
import re
import shutil
import sqlite3
from pathlib import Path
from typing import Any

import pytest
from helpers.cli import one_line, run_goatui
from helpers.wasm import COMMAND, DEMO, REACTOR, faults_module, wat_file, wat_string

from goatui.core.sanitize import UNSAFE_CODEPOINTS


@pytest.fixture
def faults(tmp_path: Path) -> Path:
    return faults_module(tmp_path)


def no_wasmtime_noise(stderr: str) -> None:
    assert "Traceback" not in stderr and "panicked" not in stderr and "wasm backtrace" not in stderr


# -- listing and calling -------------------------------------------------------------------


def test_ls_lists_wasm_plugins_by_their_registered_names(cli: Any) -> None:
    ran = cli("--wasm", str(DEMO), "--wasm", str(REACTOR), "ls", "--json")
    assert ran.returncode == 0, ran.stderr
    listed = {p["name"]: p for p in json.loads(ran.stdout)}
    # --wasm alone: only the modules named, not every socket on this machine.
    assert set(listed) == {"ticket-stats", "reactor-test"}
    assert listed["ticket-stats"]["health"] == "SERVING"
    assert listed["ticket-stats"]["target"] == str(DEMO)
    assert listed["ticket-stats"]["version"] == "1.0.0"


def test_call_answers_and_exits_0(cli: Any) -> None:
    ran = cli("--wasm", str(DEMO), "call", "ticket-stats", "hello", '{"name": "Ada"}')
    assert (ran.returncode, json.loads(ran.stdout)) == (0, {"message": "Hello, Ada!"})


def test_a_plugins_error_result_is_its_error(cli: Any) -> None:
    # GoatFlow's plugins answer failures as {"error": ...}: the plugin's error (exit 1),
    # as through sockets and the gateway; --raw prints it as the result.
    ran = cli("--wasm", str(DEMO), "call", "ticket-stats", "nope")
    assert (ran.returncode, ran.stdout) == (1, "")
    assert "the plugin answered with an error: unknown function: nope" in one_line(ran.stderr)
    ran = cli("--wasm", str(DEMO), "call", "ticket-stats", "nope", "--raw")
    assert (ran.returncode, json.loads(ran.stdout)) == (0, {"error": "unknown function: nope"})


def test_unknown_plugin_names_the_known_ones(cli: Any) -> None:
    ran = cli("--wasm", str(DEMO), "call", "tickets", "hello")
    assert ran.returncode == 2
    assert one_line(ran.stderr) == (
        "goatui: unknown plugin 'tickets' (known: ticket-stats); see `goatui ls`"
    )


def test_a_missing_wasm_file_is_a_usage_error(cli: Any, tmp_path: Path) -> None:
    ran = cli("--wasm", str(tmp_path / "nope.wasm"), "ls")
    assert ran.returncode == 2
    assert one_line(ran.stderr) == (
        f"goatui: --wasm {tmp_path / 'nope.wasm'}: does not exist; give the path of a .wasm module"
    )


def test_wasm_beside_a_gateway_is_refused(cli: Any) -> None:
    ran = cli("--wasm", str(DEMO), "--gateway", "http://127.0.0.1:9", "ls")
    assert ran.returncode == 2
    assert "--wasm runs plugins inside goatui, beside plugin sockets" in one_line(ran.stderr)


def test_plugins_dir_loads_its_wasm_files_and_shows_the_broken_ones(
    cli: Any, tmp_path: Path
) -> None:
    plugins = tmp_path / "plugins"
    (plugins / "stats").mkdir(parents=True)
    shutil.copy(DEMO, plugins / "stats" / "ticket-stats.wasm")
    shutil.copy(REACTOR, plugins / "hello.wasm")
    (plugins / "broken.wasm").write_bytes(b"\0asm nonsense")
    where = ("--plugins-dir", str(plugins), "--socket", str(tmp_path / "none.sock"))
    listed = {p["name"]: p for p in json.loads(cli(*where, "ls", "--json").stdout)}
    assert {"ticket-stats", "reactor-test", "broken"} <= set(listed)
    assert listed["reactor-test"]["health"] == "SERVING"
    broken = listed["broken"]
    assert broken["health"] == "UNREACHABLE"
    assert broken["error"].startswith("broken.wasm is not a WebAssembly module: ")
    # The others go on.
    assert json.loads(cli(*where, "call", "reactor-test", "ping").stdout) == {"pong": True}
    ran = cli(*where, "call", "broken", "x")
    assert ran.returncode == 2
    assert "broken.wasm is not a WebAssembly module" in one_line(ran.stderr)


def test_the_config_file_names_modules_config_and_language(cli: Any, tmp_path: Path) -> None:
    config = tmp_path / "config.toml"
    shutil.copy(DEMO, tmp_path / "ticket-stats.wasm")
    config.write_text(
        'wasm = ["ticket-stats.wasm"]\n'
        'language = "de"\n'
        "[plugins.ticket-stats]\n"
        'team = "Blue <team>"\n'
    )
    where = ("--config", str(config), "--socket", str(tmp_path / "none.sock"))
    ran = cli(*where, "call", "ticket-stats", "hello", '{"name": "Ada"}')
    assert json.loads(ran.stdout) == {"message": "Hallo, Ada!"}
    ran = cli(*where, "widget", "ticket-stats", "ticket-overview")
    assert ran.returncode == 0, ran.stderr
    assert "Offene Tickets · Blue <team>" in ran.stdout


def test_wasm_memory_mb_in_the_config(cli: Any, tmp_path: Path) -> None:
    config = tmp_path / "config.toml"
    config.write_text("wasm_memory_mb = 2\n")
    ran = cli(
        "--config",
        str(config),
        "--wasm",
        str(COMMAND),
        "call",
        "command-test",
        "big",
        '{"bytes": 3000000}',
    )
    assert ran.returncode == 1
    assert "the plugin answered with an error: out of memory" in one_line(ran.stderr)
    config.write_text("wasm_memory_mb = 0\n")
    ran = cli("--config", str(config), "--wasm", str(COMMAND), "ls")
    assert ran.returncode == 2
    assert "wasm_memory_mb must be a whole number from 1 to 4096" in one_line(ran.stderr)


# -- the other commands --------------------------------------------------------------------


def test_widget_jobs_job_run_and_health(cli: Any, tmp_path: Path) -> None:
    db = tmp_path / "tickets.db"
    with sqlite3.connect(db) as connection:
        connection.execute("CREATE TABLE tickets (id INTEGER PRIMARY KEY, status TEXT)")
        connection.executemany(
            "INSERT INTO tickets (status) VALUES (?)", [("open",)] * 11 + [("closed",)]
        )
    wasm = ("--wasm", str(DEMO), "--db", str(db))
    widget = cli(*wasm, "widget", "ticket-stats", "ticket-overview")
    assert widget.returncode == 0, widget.stderr
    assert "• open: 11" in widget.stdout and "from the database" in widget.stdout
    jobs = cli(*wasm, "jobs", "--json")
    [job] = json.loads(jobs.stdout)
    assert (job["plugin"], job["id"], job["schedule"]) == (
        "ticket-stats",
        "recount",
        "*/10 * * * *",
    )
    run = cli(*wasm, "job", "run", "ticket-stats", "recount")
    assert (run.returncode, json.loads(run.stdout)) == (0, {"open": 11, "limit": 10})
    health = cli(*wasm, "health")
    assert health.returncode == 0 and "ticket-stats" in health.stdout and "SERVING" in health.stdout


def test_logs_shows_what_the_plugins_print_and_say(cli: Any) -> None:
    # --for: until nothing more came for that long (the plugin's output comes through a
    # pipe and a thread: give it time on a busy machine).
    ran = cli("--wasm", str(COMMAND), "logs", "--for", "2")
    assert ran.returncode == 0, ran.stderr
    assert re.search(r"command-test +STDOUT +command-test started", ran.stdout)


def test_print_command_names_the_module(cli: Any) -> None:
    ran = cli("--wasm", str(DEMO), "call", "ticket-stats", "hello", "--print-command")
    assert ran.stdout.strip() == f"goatui --wasm {DEMO} call ticket-stats hello '{{}}'"


def test_calls_are_audited(cli: Any) -> None:
    cli("--wasm", str(DEMO), "call", "ticket-stats", "hello")
    ran = cli("audit", "--json")
    [entry] = json.loads(ran.stdout)
    assert (entry["action"], entry["target"], entry["where"]) == (
        "invoke",
        "ticket-stats/hello",
        "wasm",
    )


# -- --trace -------------------------------------------------------------------------------


def trace_steps(stderr: str) -> list[tuple[str, str]]:
    """(what, the rest) of each line of a --trace: a host function, or `log LEVEL`."""
    steps = []
    for line in stderr.splitlines()[1:]:
        match = re.match(r"^  \+\s*[\d.]+ms  (log \w+|\w+)\s+(.*)$", line)
        assert match, line
        steps.append((match.group(1), match.group(2)))
    return steps


def test_trace_prints_the_calls_log_lines_and_host_calls_after_the_result(cli: Any) -> None:
    ran = cli("--wasm", str(DEMO), "call", "ticket-stats", "overview_widget", "--trace")
    assert ran.returncode == 0
    assert json.loads(ran.stdout)["html"].startswith("<h3>Open tickets")
    assert ran.stderr.splitlines()[0] == (
        "trace of ticket-stats.overview_widget: 2 log lines, 5 host calls"
    )
    steps = trace_steps(ran.stderr)
    assert [what for what, _ in steps if not what.startswith("log")] == [
        "cache_get",
        "db_query",
        "translate",
        "config_get",
        "cache_set",
    ]
    assert [rest for what, rest in steps if what.startswith("log")] == [
        "host_call db_query failed: no database attached; start goatui with --db FILE",
        "no ticket database; showing sample figures",
    ]
    # A host call's line: its duration, outcome and request.
    cache_get = next(rest for what, rest in steps if what == "cache_get")
    assert re.fullmatch(r"[\d.]+ms  not found  overview-html", cache_get)


def test_trace_of_a_failed_call_comes_before_its_error_line(cli: Any) -> None:
    ran = cli("--wasm", str(COMMAND), "call", "command-test", "exit", "--trace")
    assert ran.returncode == 1
    lines = ran.stderr.splitlines()
    assert lines[0].startswith("trace of command-test.exit: ")
    assert lines[-1] == "goatui: the plugin exited with code 3 while calling exit"


def test_trace_says_when_goatui_is_not_the_host(cli: Any, plugins: Any) -> None:
    alpha = plugins.start("alpha")
    ran = cli("--socket", str(alpha.socket), "call", "alpha", "echo", "--trace")
    assert ran.returncode == 0
    assert ran.stderr.strip() == (
        "goatui: --trace: goatui is not the host of alpha, so it saw none of its log lines "
        "or host calls; run it with --wasm FILE, --launch or --attach-host"
    )


# -- faults, as the shell sees them ---------------------------------------------------------


def test_a_looping_plugin_times_out_with_exit_3(faults: Path) -> None:
    ran = run_goatui("--wasm", str(faults), "--timeout", "0.5", "call", "faults", "spin")
    assert ran.returncode == 3
    assert one_line(ran) == "goatui: calling spin: timed out after 0.5s"
    no_wasmtime_noise(ran.stderr)


def test_a_trap_is_exit_1_with_the_traps_message(cli: Any, faults: Path) -> None:
    ran = cli("--wasm", str(faults), "call", "faults", "oob")
    assert ran.returncode == 1
    line = one_line(ran.stderr)
    assert line.startswith("goatui: trap while calling oob: wasm trap: out of bounds memory access")
    no_wasmtime_noise(ran.stderr)


def test_a_module_that_is_not_a_plugin_is_exit_2(cli: Any, tmp_path: Path) -> None:
    path = wat_file(tmp_path, "half", '(module (memory (export "memory") 1))')
    ran = cli("--wasm", str(path), "call", "half", "x")
    assert ran.returncode == 2
    assert one_line(ran.stderr) == (
        "goatui: half.wasm is not a GoatFlow plugin: it has no gk_register export; it has no "
        "gk_call export; it has no gk_malloc export"
    )


def test_allocating_without_end_is_bounded(cli: Any, faults: Path) -> None:
    ran = cli("--wasm", str(faults), "call", "faults", "hog")
    assert ran.returncode == 1
    assert "unreachable" in one_line(ran.stderr)


# -- untrusted text -------------------------------------------------------------------------

HOSTILE = "x\x1b]0;owned\x07\x1b[2J\u202e\x9b31m"


def test_plugin_text_is_sanitised(cli: Any, tmp_path: Path) -> None:
    """Names and fields of the manifest, results and log lines, as the CLI prints them."""
    manifest = json.dumps({"name": f"evil{HOSTILE}", "version": HOSTILE, "description": HOSTILE})
    document, said = manifest.encode(), HOSTILE.encode()
    body = f"""(module
      (import "gk" "log" (func $log (param i32 i32 i32)))
      (memory (export "memory") 1)
      (data (i32.const 16) "{wat_string(document)}")
      (data (i32.const 2048) "{wat_string(said)}")
      (func (export "gk_malloc") (param i32) (result i32) (i32.const 4096))
      (func (export "gk_register") (result i64) (i64.const {(16 << 32) | len(document)}))
      (func (export "gk_call") (param i32 i32 i32 i32) (result i64)
        (call $log (i32.const 3) (i32.const 2048) (i32.const {len(said)}))
        (i64.const {(2048 << 32) | len(said)})))"""
    path = wat_file(tmp_path, "evil", body)
    listed = cli("--wasm", str(path), "ls")
    assert listed.returncode == 0, listed.stderr
    assert "evil" in listed.stdout
    called = cli("--wasm", str(path), "call", f"evil{HOSTILE}", "x", "--trace")
    assert called.returncode == 0, called.stderr
    for text in (listed.stdout, called.stdout, called.stderr):
        assert not set(text) & UNSAFE_CODEPOINTS
    assert "\\x1b]0;owned" in called.stderr  # shown, escaped
