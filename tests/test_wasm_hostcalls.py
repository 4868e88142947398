"""gk.host_call and gk.log on real modules, answered by goatui's real host.

tests/wasm/command.c's `host:<fn>` handler makes host call <fn> with its own args and
answers with the host's answer (or {"host_call":"failed"}), so each test sees exactly
what a plugin would get.
"""

from __future__ import annotations

import base64
import json
import sqlite3
import threading
from collections.abc import AsyncIterator, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from helpers.wasm import COMMAND, DEMO, REACTOR, Hosting, shared_test_engine, wat_file

from goatui.core.backends.wasm.hostcalls import go_format, languages, translate
from goatui.core.backends.wasm.runner import PluginRunner
from goatui.core.config import Config
from goatui.core.errors import NotFound
from goatui.core.hosting.stores import HostCache

FAILED = {"host_call": "failed"}


@pytest.fixture
async def hosting() -> AsyncIterator[Hosting]:
    hosting = Hosting.start(shared_test_engine())
    yield hosting
    await hosting.close()


async def host_call(runner: PluginRunner, fn: str, args: Any) -> Any:
    served = await runner.call(f"host:{fn}", json.dumps(args).encode(), 10)
    return json.loads(served.data)


def errors(hosting: Hosting) -> list[tuple[str, str, dict[str, str]]]:
    return [(e.plugin, e.message, e.fields) for e in hosting.logs() if e.level == "error"]


# -- the database --------------------------------------------------------------------------


@pytest.fixture
def database(tmp_path: Path) -> Path:
    path = tmp_path / "goatflow.db"
    with sqlite3.connect(path) as db:
        db.execute("CREATE TABLE tickets (id INTEGER PRIMARY KEY, status TEXT, raw BLOB)")
        db.executemany(
            "INSERT INTO tickets (status, raw) VALUES (?, ?)",
            [("open", b"\x00\x01"), ("open", None), ("closed", None)],
        )
    return path


async def test_db_query_and_db_exec_use_the_hosts_sqlite_file(database: Path) -> None:
    hosting = Hosting.start(shared_test_engine(), db_path=database)
    try:
        runner = await hosting.load(COMMAND)
        rows = await host_call(
            runner,
            "db_query",
            {"query": "SELECT id, status, raw FROM tickets WHERE status = ?", "args": ["open"]},
        )
        # Blobs as Go's encoding/json writes []byte: base64.
        assert rows == [
            {"id": 1, "status": "open", "raw": base64.b64encode(b"\x00\x01").decode()},
            {"id": 2, "status": "open", "raw": None},
        ]
        changed = await host_call(
            runner,
            "db_exec",
            {"query": "UPDATE tickets SET status = ? WHERE status = ?", "args": ["done", "open"]},
        )
        assert changed == {"affected": 2}
        # The same file the gRPC HostService uses.
        assert hosting.host.db is not None and hosting.host.db.path == database
        with sqlite3.connect(database) as db:
            assert db.execute("SELECT COUNT(*) FROM tickets WHERE status = 'done'").fetchone() == (
                2,
            )
        # db_query is read-only, as for HostService's DBQuery.
        assert await host_call(runner, "db_query", {"query": "DELETE FROM tickets"}) == FAILED
        assert "attempt to write a readonly database" in errors(hosting)[-1][1]
    finally:
        await hosting.close()


async def test_without_a_database_the_host_call_fails_and_says_why(hosting: Hosting) -> None:
    runner = await hosting.load(COMMAND)
    assert await host_call(runner, "db_query", {"query": "SELECT 1"}) == FAILED
    assert errors(hosting) == [
        (
            "command-test",
            "host_call db_query failed: no database attached; start goatui with --db FILE",
            {"call": "host:db_query"},
        )
    ]


# -- the cache -----------------------------------------------------------------------------


async def test_cache_values_round_trip_as_base64_and_honour_ttl(hosting: Hosting) -> None:
    now = [1000.0]
    hosting.host.cache = HostCache(clock=lambda: now[0])
    runner = await hosting.load(COMMAND)
    value = base64.b64encode(b"\x00binary\xff").decode()
    assert await host_call(runner, "cache_set", {"key": "k", "value": value, "ttl": 5}) == {
        "ok": True
    }
    assert await host_call(runner, "cache_get", {"key": "k"}) == {"value": value, "found": True}
    # The same cache the gRPC HostService uses, under the plugin's name.
    assert hosting.host.cache.get("command-test", "k") == b"\x00binary\xff"
    now[0] += 5
    assert await host_call(runner, "cache_get", {"key": "k"}) == {"value": None, "found": False}


async def test_cache_set_with_bad_base64_fails(hosting: Hosting) -> None:
    runner = await hosting.load(COMMAND)
    assert await host_call(runner, "cache_set", {"key": "k", "value": "not base64!"}) == FAILED
    assert errors(hosting)[-1][1] == 'host_call cache_set failed: "value" is not valid base64'


# -- config and translations ----------------------------------------------------------------


async def test_config_get_reads_the_plugins_config_section() -> None:
    config = Config(plugins={"command-test": {"team": "Blue"}, "other": {"secret": "no"}})
    hosting = Hosting.start(shared_test_engine(), config=config)
    try:
        runner = await hosting.load(COMMAND)
        assert await host_call(runner, "config_get", {"key": "team"}) == {"value": "Blue"}
        assert await host_call(runner, "config_get", {"key": "secret"}) == {"value": ""}
        outcomes = [(c.method, c.detail, c.outcome) for c in hosting.host.trace]
        assert outcomes[-2:] == [
            ("config_get", "team", "ok"),
            ("config_get", "secret", "not found"),
        ]
    finally:
        await hosting.close()


@pytest.mark.parametrize(
    ("configured", "lang", "expected"),
    [
        ("de", "en_US.UTF-8", "Hallo Ada, 3 neu"),  # the configured language first
        ("", "de_AT.UTF-8", "Hallo Ada, 3 neu"),  # then LANG's (de-AT, then de)
        ("", "fr_FR.UTF-8", "Hi Ada, 3 new"),  # then en
        ("", "C", "Hi Ada, 3 new"),
    ],
)
async def test_translate_uses_the_plugins_own_translations(
    monkeypatch: pytest.MonkeyPatch, configured: str, lang: str, expected: str
) -> None:
    monkeypatch.setenv("LANG", lang)
    hosting = Hosting.start(shared_test_engine(), language=configured)
    try:
        runner = await hosting.load(COMMAND)
        answer = await host_call(runner, "translate", {"key": "hi", "args": ["Ada", 3]})
        assert answer == {"value": expected}
        # A key the plugin has no translation for is answered with the key itself.
        assert await host_call(runner, "translate", {"key": "nope"}) == {"value": "nope"}
    finally:
        await hosting.close()


def test_languages_to_try() -> None:
    assert languages("pt_BR", "de_DE.UTF-8@euro") == ["pt-BR", "pt", "de-DE", "de", "en"]
    assert languages("", "") == ["en"]


def test_go_verbs_are_filled_in_order() -> None:
    assert go_format("%s has %d (%v) %q 100%%", ["a", 2.0, True, "x"]) == 'a has 2 (true) "x" 100%'
    assert go_format("%s and %s", ["one"]) == "one and %!s(MISSING)"
    assert go_format("%s", ["a", "b"]) == "a%!(EXTRA b)"
    assert translate({}, "key", []) == "key"


# -- other plugins ---------------------------------------------------------------------------


# A plugin that answers every call by passing its args to plugin_call: {"relayed": false}
# when that host call fails, else the other plugin's answer.
RELAY = """(module
  (import "gk" "host_call" (func $host_call (param i32 i32 i32 i32) (result i64)))
  (memory (export "memory") 1)
  (global $heap (mut i32) (i32.const 4096))
  (data (i32.const 16) "{\\"name\\":\\"relay\\"}")
  (data (i32.const 64) "plugin_call")
  (data (i32.const 96) "{\\"relayed\\":false}")
  (func (export "gk_malloc") (param i32) (result i32)
    (global.get $heap) (global.set $heap (i32.add (global.get $heap) (local.get 0))))
  (func (export "gk_register") (result i64) (i64.const 0x1000000010))
  (func (export "gk_call") (param i32 i32 i32 i32) (result i64) (local $answer i64)
    (local.set $answer (call $host_call (i32.const 64) (i32.const 11) (local.get 2) (local.get 3)))
    (if (result i64) (i64.eqz (local.get $answer))
      (then (i64.const 0x6000000011)) (else (local.get $answer)))))"""

EMPTY_ANSWER = """(module
  (memory (export "memory") 1)
  (data (i32.const 16) "{\\"name\\":\\"empty\\"}")
  (func (export "gk_malloc") (param i32) (result i32) (i32.const 1024))
  (func (export "gk_register") (result i64) (i64.const 0x1000000010))
  (func (export "gk_call") (param i32 i32 i32 i32) (result i64) (i64.const 0)))"""


@pytest.fixture
async def plugins(tmp_path: Path) -> AsyncIterator[tuple[Hosting, dict[str, PluginRunner]]]:
    """command-test, reactor-test, relay and empty, each able to plugin_call the others."""
    known: dict[str, PluginRunner] = {}

    async def call_plugin(target: str, function: str, args: bytes, timeout: float) -> bytes:
        if target not in known:
            raise NotFound(f"unknown plugin {target!r}", "see `goatui ls`")
        return (await known[target].call(function, args, timeout)).data

    hosting = Hosting.start(shared_test_engine(), plugin_caller=call_plugin)
    for path in (
        COMMAND,
        REACTOR,
        wat_file(tmp_path, "relay", RELAY),
        wat_file(tmp_path, "empty", EMPTY_ANSWER),
    ):
        runner = await hosting.load(path)
        known[runner.name] = runner
    yield hosting, known
    await hosting.close()


async def test_plugin_call_answers_the_other_plugins_raw_result(
    plugins: tuple[Hosting, dict[str, PluginRunner]],
) -> None:
    hosting, known = plugins
    runner = known["command-test"]
    # Through relay to reactor-test: each answer passed on as it came.
    through = {
        "plugin": "relay",
        "function": "x",
        "args": {"plugin": "reactor-test", "function": "ping"},
    }
    assert await host_call(runner, "plugin_call", through) == {"pong": True}
    # An empty answer is still an answer (a packed 0 would say the call failed).
    served = await runner.call(
        "host:plugin_call", json.dumps({"plugin": "empty", "function": "x"}).encode(), 5
    )
    assert served.data == b""
    missing = await host_call(runner, "plugin_call", {"plugin": "gone", "function": "x"})
    assert missing == FAILED
    assert errors(hosting)[-1][1] == "host_call plugin_call failed: unknown plugin 'gone'"
    # Recorded as each ends (the inner one first), stamped with when it started.
    started = [c.detail for c in sorted(hosting.host.trace, key=lambda c: c.timestamp)]
    assert started == ["relay.x", "reactor-test.ping", "empty.x", "gone.x"]


@pytest.mark.parametrize(
    ("args", "cycle", "failed_in", "answer"),
    [
        (
            {"plugin": "command-test", "function": "echo"},
            "command-test → command-test",
            "command-test",
            FAILED,
        ),
        (
            {
                "plugin": "relay",
                "function": "x",
                "args": {"plugin": "command-test", "function": "echo"},
            },
            "command-test → relay → command-test",
            "relay",
            {"relayed": False},
        ),
    ],
    ids=["itself", "through-another"],
)
async def test_a_plugin_call_back_into_a_waiting_plugin_fails_at_once(
    plugins: tuple[Hosting, dict[str, PluginRunner]],
    args: dict[str, Any],
    cycle: str,
    failed_in: str,
    answer: Any,
) -> None:
    hosting, known = plugins
    # It would otherwise wait for itself until the deadline (60 s here).
    served = await known["command-test"].call("host:plugin_call", json.dumps(args).encode(), 60)
    assert json.loads(served.data) == answer
    assert errors(hosting) == [
        (
            failed_in,
            f"host_call plugin_call failed: plugin_call cycle {cycle}: "
            "command-test is busy waiting for that answer",
            {"call": "x" if failed_in == "relay" else "host:plugin_call"},
        )
    ]


# -- http and mail -------------------------------------------------------------------------


@pytest.fixture
def echo_server() -> Iterator[str]:
    """A real HTTP server on 127.0.0.1 that answers 201 with what it was sent."""

    class Echo(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            answer = json.dumps(
                {"path": self.path, "header": self.headers.get("X-Test"), "body": body.decode()}
            ).encode()
            self.send_response(201)
            self.send_header("Content-Length", str(len(answer)))
            self.end_headers()
            self.wfile.write(answer)

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Echo)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def _request(url: str) -> dict[str, Any]:
    body = base64.b64encode(b"hello").decode()
    return {"method": "post", "url": f"{url}/hook", "headers": {"X-Test": "yes"}, "body": body}


async def test_http_request_is_refused_unless_allowed(hosting: Hosting, echo_server: str) -> None:
    runner = await hosting.load(COMMAND)
    assert await host_call(runner, "http_request", _request(echo_server)) == FAILED
    assert errors(hosting)[-1][1] == (
        "host_call http_request failed: refused: start goatui with --allow-http to let "
        "plugins make HTTP requests"
    )
    call = list(hosting.host.trace)[-1]
    assert (call.method, call.detail) == ("http_request", f"POST {echo_server}/hook")
    assert call.outcome.startswith("failed: refused")


async def test_http_request_with_allow_http(echo_server: str) -> None:
    hosting = Hosting.start(shared_test_engine(), allow_http=True)
    try:
        runner = await hosting.load(COMMAND)
        answer = await host_call(runner, "http_request", _request(echo_server))
        assert answer["status"] == 201
        assert json.loads(base64.b64decode(answer["body"])) == {
            "path": "/hook",
            "header": "yes",
            "body": "hello",
        }
    finally:
        await hosting.close()


async def test_send_email_never_sends_and_shows_the_mail_in_the_log(hosting: Hosting) -> None:
    runner = await hosting.load(COMMAND)
    mail = {"to": ["ops@example.com"], "subject": "Disk full", "body": "on db1", "html": False}
    assert await host_call(runner, "send_email", mail) == {"ok": True}
    [entry] = [e for e in hosting.logs() if e.message.startswith("send_email")]
    assert entry.message == (
        "send_email (not sent: goatui never sends mail) to ops@example.com: Disk full"
    )
    assert entry.fields["body"] == "on db1" and entry.level == "info"


# -- failures, the trace and gk.log -----------------------------------------------------------


@pytest.mark.parametrize(
    ("fn", "args", "why"),
    [
        ("nope", {}, "unknown host function: nope"),
        ("cache_get", [1], "args must be a JSON object"),
        ("cache_get", {"key": 3}, '"key" must be a non-empty string'),
    ],
)
async def test_a_failing_host_call_answers_0_and_logs_why(
    hosting: Hosting, fn: str, args: Any, why: str
) -> None:
    runner = await hosting.load(COMMAND)
    assert await host_call(runner, fn, args) == FAILED
    assert errors(hosting) == [
        ("command-test", f"host_call {fn} failed: {why}", {"call": f"host:{fn}"})
    ]


async def test_host_call_args_that_are_not_json_fail(hosting: Hosting) -> None:
    runner = await hosting.load(COMMAND)
    served = await runner.call("host:cache_get", b"{nope", 5)
    assert json.loads(served.data) == FAILED
    assert errors(hosting)[-1][1].startswith("host_call cache_get failed: args are not JSON")


async def test_every_host_call_is_in_the_trace_and_in_its_calls_scope(hosting: Hosting) -> None:
    runner = await hosting.load(DEMO)
    served = await runner.call("overview_widget", b"{}", 10)
    assert json.loads(served.data)["html"].startswith("<h3>Open tickets · Support</h3>")
    made = [(c.method, c.outcome.split(":")[0]) for c in served.scope.host_calls]
    assert made == [
        ("cache_get", "not found"),
        ("db_query", "failed"),
        ("translate", "ok"),
        ("config_get", "not found"),
        ("cache_set", "ok"),
    ]
    hosting.services.flush()
    traced = [c for c in hosting.host.trace if c.plugin == "ticket-stats"]
    assert [(c.method, c.detail) for c in traced] == [
        (c.method, c.detail) for c in served.scope.host_calls
    ]
    assert all(c.duration_ms >= 0 for c in traced)
    assert traced == sorted(traced, key=lambda c: c.timestamp)
    # The log lines the call caused, attributed to it.
    assert [(line.level, line.message) for line in served.scope.log_lines] == [
        ("error", "host_call db_query failed: no database attached; start goatui with --db FILE"),
        ("warn", "no ticket database; showing sample figures"),
    ]
    # Served from the cache the second time.
    again = await runner.call("overview_widget", b"{}", 10)
    assert [c.method for c in again.scope.host_calls] == ["cache_get"]
    assert again.data == served.data


@pytest.mark.parametrize(
    ("level", "name"), [(0, "debug"), (1, "info"), (2, "warn"), (3, "error"), (7, "info")]
)
async def test_gk_log_levels(hosting: Hosting, level: int, name: str) -> None:
    runner = await hosting.load(COMMAND)
    await runner.call("log", json.dumps({"level": level, "message": "hi \x1b[31m"}).encode(), 5)
    # (Not simply the last entry: the module's start-up output may come after it.)
    [entry] = [e for e in hosting.logs("command-test") if e.message.startswith("hi")]
    # Kept as sent; the views sanitise what they show.
    assert (entry.level, entry.message, entry.fields) == (name, "hi \x1b[31m", {"call": "log"})


async def test_a_long_log_message_is_cut(hosting: Hosting) -> None:
    runner = await hosting.load(COMMAND)
    await runner.call("flood", b'{"lines": 1, "bytes": 20000}', 5)
    [message] = [e.message for e in hosting.logs("command-test") if e.message.startswith("line")]
    assert message.startswith("line 1 xxx")
    assert message.endswith("xxx … (3,616 more bytes cut)")
    assert len(message) == 16 * 1024 + len(" … (3,616 more bytes cut)")


async def test_a_log_flood_keeps_the_newest_lines_within_the_buffer() -> None:
    hosting = Hosting.start(shared_test_engine(), log_capacity=500)
    try:
        runner = await hosting.load(COMMAND)
        await runner.call("flood", b'{"lines": 5000}', 10)
        flood = [e.message for e in hosting.logs() if e.message.startswith("line ")]
        # The newest lines, none missing among them; the rest counted as dropped.
        assert flood[-1] == "line 5000 "
        assert flood == [f"line {n} " for n in range(5001 - len(flood), 5001)]
        logs = hosting.host.logs
        assert len(logs) == 500
        assert logs.dropped == logs.last_seq - 500 >= 4500
    finally:
        await hosting.close()
