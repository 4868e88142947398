"""goatui as HostService: real plugin processes call it, and it answers from its own state."""

from __future__ import annotations

import asyncio
import json
import os
import sqlite3
import stat
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from helpers.cli import run_goatui as goatui
from helpers.processes import wait_until

from goatui.cli.common import build_session
from goatui.cli.parser import build_parser
from goatui.core.backends.sockets.backend import SocketBackend
from goatui.core.backends.sockets.client import PluginClient
from goatui.core.backends.sockets.discovery import Sources, accepts_connections
from goatui.core.config import Config, load_config
from goatui.core.hosting.stores import Database, HostCache, HostState, StoreError
from goatui.core.logs import LogStore
from goatui.core.session import Session

GOATUI = [sys.executable, "-m", "goatui"]


def make_session(*targets: Path, config: Config | None = None, **kwargs: Any) -> Session:
    backend = SocketBackend(Sources(sockets=[str(t) for t in targets]))
    return Session(backend=backend, config=config or Config(), **kwargs)


async def call(session: Session, plugin: str, function: str, args: dict[str, Any]) -> Any:
    result = await session.backend.call(plugin, function, json.dumps(args).encode())
    return json.loads(result.data)


async def host_call(session: Session, plugin: str, method: str, **request: Any) -> Any:
    return await call(session, plugin, "host", {"method": method, "request": request})


# -- attaching only when asked -----------------------------------------------------------


async def test_looking_never_attaches(plugins) -> None:
    """ls and call (which probe, register and call) leave a plugin's host alone; a
    refused `logs` too (tests/test_logs.py)."""
    alpha = plugins.start("alpha")
    assert goatui("ls", "--json", "--socket", alpha.target).returncode == 0
    assert goatui("call", "alpha", "echo", '{"a": 1}', "--socket", alpha.target).returncode == 0
    client = PluginClient(alpha.target)
    try:
        assert json.loads((await client.call("has_host")).data) == {"host": False}
    finally:
        await client.close()


async def test_console_session_without_asking_does_not_attach(plugins) -> None:
    alpha = plugins.start("alpha")
    session = make_session(alpha.socket)
    try:
        await session.start()
        await session.backend.list_plugins()
        assert await call(session, "alpha", "has_host", {}) == {"host": False}
        assert session.host is None
    finally:
        await session.close()


async def test_attach_host_when_asked(plugins) -> None:
    alpha = plugins.start("alpha")
    session = make_session(alpha.socket, attach_host=True)
    try:
        await session.start()
        assert session.problems == []
        assert await call(session, "alpha", "has_host", {}) == {"host": True}
        assert session.attached["alpha"].startswith("unix://")
        # The goatui side of the warning: the operator is told what changed.
        assert any("GoatFlow" in n for n in session.notices)
        # The kit logs "host attached" through its new host.
        assert [e.message for e in session.logs] == ["host attached"]
    finally:
        await session.close()


# -- logs --------------------------------------------------------------------------------


async def test_two_plugins_log_thousands_at_once(plugins) -> None:
    alpha, beta = plugins.start("alpha"), plugins.start("beta")
    session = make_session(alpha.socket, beta.socket, attach_host=True)
    try:
        await session.start()
        count = 1000
        results = await asyncio.gather(
            call(session, "alpha", "log", {"count": count, "level": "warn"}),
            call(session, "beta", "log", {"count": count, "level": "debug"}),
        )
        assert results == [{"sent": count}, {"sent": count}]
        entries = [e for e in session.logs if e.message.startswith("line ")]
        assert session.logs.dropped == 0
        for name, level in (("alpha", "warn"), ("beta", "debug")):
            mine = [e for e in entries if e.plugin == name]
            assert [e.fields["seq"] for e in mine] == [str(i) for i in range(count)]
            assert {e.level for e in mine} == {level}
        # Interleaved, yet every sequence number is unique and increasing.
        seqs = [e.seq for e in session.logs]
        assert seqs == sorted(seqs) and len(set(seqs)) == len(seqs)
        assert {e.plugin for e in entries} == {"alpha", "beta"}
        timestamps = [e.timestamp for e in session.logs]
        assert timestamps == sorted(timestamps)
        logged = [c for c in session.host.trace if c.method == "Log"] if session.host else []
        assert len(logged) == min(2 * count + 2, session.host.trace.capacity)  # type: ignore[union-attr]
    finally:
        await session.close()


async def test_overflow_keeps_the_newest_in_order(plugins) -> None:
    alpha = plugins.start("alpha")
    session = make_session(alpha.socket, config=Config(log_buffer=200), attach_host=True)
    try:
        await session.start()
        await call(session, "alpha", "log", {"count": 600})
        kept = list(session.logs)
        assert len(kept) == 200
        # 1 "host attached" + 600 lines, 200 kept.
        assert session.logs.dropped == 401
        assert [e.fields["seq"] for e in kept] == [str(i) for i in range(400, 600)]
    finally:
        await session.close()


# -- cache -------------------------------------------------------------------------------


async def test_cache_set_get_delete_and_ttl(plugins) -> None:
    alpha, beta = plugins.start("alpha"), plugins.start("beta")
    session = make_session(alpha.socket, beta.socket, attach_host=True)
    try:
        await session.start()
        assert (await host_call(session, "alpha", "CacheSet", key="k", value="v", ttl=0))["ok"]
        await host_call(session, "alpha", "CacheSet", key="short", value="s", ttl=1)
        got = await host_call(session, "alpha", "CacheGet", key="k")
        assert got["response"] == {"found": True, "value": "v"}
        assert (await host_call(session, "alpha", "CacheGet", key="short"))["response"]["found"]
        # Another plugin has its own namespace.
        other = await host_call(session, "beta", "CacheGet", key="k")
        assert other["response"].get("found", False) is False
        await asyncio.sleep(1.1)
        expired = await host_call(session, "alpha", "CacheGet", key="short")
        assert expired["response"].get("found", False) is False
        assert (await host_call(session, "alpha", "CacheGet", key="k"))["response"]["found"]
        await host_call(session, "alpha", "CacheDelete", key="k")
        gone = await host_call(session, "alpha", "CacheGet", key="k")
        assert gone["response"].get("found", False) is False
        assert session.host is not None
        trace = [(c.plugin, c.method, c.detail, c.outcome) for c in session.host.trace]
        assert ("alpha", "CacheGet", "k", "ok") in trace
        assert ("alpha", "CacheGet", "short", "not found") in trace
        assert ("alpha", "CacheSet", "short ttl=1", "ok") in trace
        assert all(c.duration_ms >= 0 for c in session.host.trace)
    finally:
        await session.close()


def test_cache_bound_and_negative_ttl() -> None:
    now = [100.0]
    cache = HostCache(max_entries=3, clock=lambda: now[0])
    cache.set("p", "forever", b"1", -5)
    for key in ("a", "b", "c"):
        cache.set("p", key, b"x", 10)
    assert cache.get("p", "forever") is None  # the oldest went to make room
    now[0] += 11
    assert cache.keys("p") == []


# -- config ------------------------------------------------------------------------------


async def test_config_get_from_the_config_file(plugins, tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    path.write_text('[plugins.alpha]\ngreeting = "hello"\nlimit = 5\n')
    alpha = plugins.start("alpha")
    session = make_session(alpha.socket, config=load_config(path), attach_host=True)
    try:
        await session.start()
        got = await host_call(session, "alpha", "ConfigGet", key="greeting")
        assert got["response"] == {"value": "hello", "found": True}
        assert (await host_call(session, "alpha", "ConfigGet", key="limit"))["response"][
            "value"
        ] == "5"
        missing = await host_call(session, "alpha", "ConfigGet", key="nope")
        assert missing["ok"] and missing["response"].get("found", False) is False
    finally:
        await session.close()


# -- database ----------------------------------------------------------------------------


async def test_db_without_a_database_is_a_clear_error(plugins) -> None:
    alpha = plugins.start("alpha")
    session = make_session(alpha.socket, attach_host=True)
    try:
        await session.start()
        got = await host_call(session, "alpha", "DBQuery", query="select 1")
        assert got == {
            "ok": False,
            "code": "FAILED_PRECONDITION",
            "details": "no database attached; start goatui with --db FILE",
        }
        assert session.host is not None
        last = list(session.host.trace)[-1]
        assert last.method == "DBQuery" and last.outcome.startswith("FAILED_PRECONDITION")
    finally:
        await session.close()


async def test_db_query_and_exec(plugins, tmp_path: Path) -> None:
    db = tmp_path / "goat.db"
    with sqlite3.connect(db) as connection:
        connection.execute("create table tickets (id integer primary key, title text, n real)")
        connection.execute("insert into tickets (title, n) values ('first', 1.5)")
    alpha = plugins.start("alpha")
    session = make_session(alpha.socket, attach_host=True, db_path=db)
    try:
        await session.start()
        done = await host_call(
            session,
            "alpha",
            "DBExec",
            query="insert into tickets (title, n) values (?, ?), (?, ?)",
            args=["second", "2", "'; drop table tickets; --", "3"],
        )
        assert done["response"] == {"affected_rows": "2"}  # int64 is a string in JSON
        rows = await host_call(
            session,
            "alpha",
            "DBQuery",
            query="select id, title from tickets where id > ?",
            args=["1"],
        )
        assert rows["response"]["rows"] == [
            {"id": 2, "title": "second"},
            {"id": 3, "title": "'; drop table tickets; --"},
        ]
        # DBQuery is read-only; DBExec is where writes go.
        refused = await host_call(session, "alpha", "DBQuery", query="delete from tickets")
        assert not refused["ok"] and "readonly" in refused["details"].replace("-", "")
        bad = await host_call(session, "alpha", "DBExec", query="select nonsense from")
        assert not bad["ok"] and bad["code"] == "INVALID_ARGUMENT"
        # Plugin SQL reaches only this file (more in the test below).
        copy = tmp_path / "copy.db"
        out = await host_call(session, "alpha", "DBExec", query=f"vacuum into '{copy}'")
        assert (out["ok"], out["code"]) == (False, "PERMISSION_DENIED")
        assert out["details"] == (
            "sqlite: not authorized: plugins may not open other files (ATTACH, VACUUM INTO)"
        )
        assert not copy.exists()
    finally:
        await session.close()
    with sqlite3.connect(db) as connection:
        assert connection.execute("select count(*) from tickets").fetchone() == (3,)


async def test_db_timeout_interrupts_the_query(tmp_path: Path) -> None:
    database = Database(tmp_path / "slow.db", timeout=0.2)
    slow = "with recursive c(x) as (select 1 union all select x + 1 from c) select count(*) from c"
    started = time.monotonic()
    with pytest.raises(StoreError) as caught:
        await database.query(slow, [])
    assert caught.value.status == "DEADLINE_EXCEEDED"
    assert time.monotonic() - started < 2
    # The loop stayed free, and the database is usable afterwards.
    assert await database.query("select ? as v", ["x"]) == [{"v": "x"}]


# -- endpoints ---------------------------------------------------------------------------


async def test_endpoints_are_private_and_removed(plugins, sock_dir: Path, monkeypatch) -> None:
    monkeypatch.setenv("XDG_RUNTIME_DIR", str(sock_dir))
    alpha, beta = plugins.start("alpha"), plugins.start("beta")
    session = make_session(alpha.socket, beta.socket, attach_host=True)
    await session.start()
    assert session.runtime is not None and session.host is not None
    runtime = session.runtime.path
    assert runtime.parent == sock_dir
    assert stat.S_IMODE(runtime.stat().st_mode) == 0o700
    endpoints = [e.path for e in session.host.endpoints.values()]
    assert len(endpoints) == 2 and len(set(endpoints)) == 2
    for path in endpoints:
        assert stat.S_ISSOCK(path.stat().st_mode)
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
        assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    assert all(a.startswith(f"unix://{runtime}/") for a in session.attached.values())
    await session.close()
    assert not runtime.exists()


# -- bounded in bytes (issue #18) ----------------------------------------------------------


def test_the_cache_is_bounded_in_bytes() -> None:
    cache = HostCache(max_value=100, max_bytes_per_owner=1_000, max_bytes=1_500)
    with pytest.raises(StoreError, match="value of 101 bytes is over the 100 bytes limit"):
        cache.set("a", "big", b"x" * 101, 0)
    with pytest.raises(StoreError, match="key of 1,025 bytes"):
        cache.set("a", "k" * 1025, b"x", 0)
    assert cache.bytes == 0 and cache.get("a", "big") is None
    # Past its own share a plugin loses its own oldest entries, not another's.
    cache.set("b", "theirs", b"y" * 100, 0)
    dropped = sum(cache.set("a", f"k{i}", b"x" * 100, 0) for i in range(20))
    assert cache.keys("b") == ["theirs"]
    assert dropped > 0 and cache.get("a", "k0") is None and cache.get("a", "k19") is not None
    assert cache.bytes <= 1_500
    # Past the whole budget the oldest entry goes, whoever's.
    for i in range(5):
        cache.set("c", f"k{i}", b"z" * 100, 0)
    assert cache.get("b", "theirs") is None
    for owner in ("a", "c"):
        for key in cache.keys(owner):
            cache.delete(owner, key)
    assert cache.bytes == 0


def test_what_the_cache_refuses_or_drops_is_said_in_the_log_stream() -> None:
    now = [100.0]
    state = HostState(Config(), LogStore(), clock=lambda: now[0])
    state.cache.max_bytes_per_owner = 1_000
    for _ in range(3):  # a flood of refusals is one line, then a count
        with pytest.raises(StoreError):
            state.cache_set("a", "alpha", "big", b"x" * (4 * 1024 * 1024 + 1), 0)
    for i in range(12):
        state.cache_set("a", "alpha", f"k{i}", b"x" * 100, 0)
    now[0] += 10
    with pytest.raises(StoreError):
        state.cache_set("a", "alpha", "big", b"x" * (4 * 1024 * 1024 + 1), 0)
    said = [(e.plugin, e.level, e.message, e.fields) for e in state.logs]
    assert said[2][2].endswith("nothing was stored (and 2 more since the last such note)")
    assert said[:2] == [
        (
            "alpha",
            "warn",
            "goatui: CacheSet 'big' refused: a cache value of 4,194,305 bytes is over the"
            " 4 MiB limit; nothing was stored",
            {"goatui": "limit"},
        ),
        (
            "alpha",
            "warn",
            "goatui: the cache dropped 1 older entry to stay within 1,000 bytes a plugin",
            {"goatui": "limit"},
        ),
    ]


async def test_sockets_plugins_memory_stays_bounded_whatever_they_send(plugins_dir) -> None:
    """A launched plugin sends 150 Log calls of 1 MiB and 40 CacheSet calls of 3 MiB
    (270 MiB that goatui used to keep): goatui's peak memory stays far below that. The
    bound (250 MiB) is far from normal use; nothing here is timed."""
    plugins_dir.add("alpha")
    # Nothing printed (--level error): a reader would only slow the flood down.
    command = ["logs", "-f", "--launch", "--plugins-dir", str(plugins_dir.root), "--level", "error"]
    process = subprocess.Popen([*GOATUI, *command], stdout=subprocess.DEVNULL)
    try:
        base = Path(os.environ["XDG_RUNTIME_DIR"])
        wait_until(
            lambda: any(accepts_connections(p) for p in base.glob("goatui-*/alpha.sock")),
            "alpha up",
        )
        client = PluginClient(str(next(base.glob("goatui-*/alpha.sock"))))
        try:
            deadline = time.monotonic() + 20
            while json.loads((await client.call("has_host")).data) != {"host": True}:
                assert time.monotonic() < deadline, "goatui did not attach the host in time"
                await asyncio.sleep(0.05)
            flood = {"logs": 150, "log_kb": 1024, "cache": 40, "cache_kb": 3 * 1024}
            sent = json.loads((await client.call("flood", json.dumps(flood).encode(), 60)).data)
        finally:
            await client.close()
        assert sent == {"logged": 150, "log_refused": 0, "cached": 40, "cache_refused": 0}
        status = Path(f"/proc/{process.pid}/status").read_text()
        peak_kib = int(
            next(line.split()[1] for line in status.splitlines() if line.startswith("VmHWM:"))
        )
        assert peak_kib < 250 * 1024
    finally:
        process.kill()
        process.wait()


# -- trust: config and cache follow the socket, not the name it claims --------------------


async def test_config_and_cache_belong_to_the_socket_not_the_claimed_name(
    plugins: Any, plugins_dir: Any, sock_dir: Path, tmp_path: Path
) -> None:
    """Anyone can make /tmp/goatflow-plugin-aaa.sock and register as billing: it must
    not read billing's [plugins.billing] (its secrets) nor billing's cache."""
    path = tmp_path / "config.toml"
    path.write_text('[plugins.billing]\nsecret = "s3cret"\n')
    config = load_config(path)
    billing = plugins.start("billing")
    impostor = plugins.start("aaa", TESTPLUGIN_NAME="billing")  # found first, by the glob
    glob = str(sock_dir / "goatflow-plugin-*.sock")

    # Both found by a glob: nobody can tell which is billing, so neither gets the config.
    session = Session(backend=SocketBackend(Sources(globs=[glob])), config=config, attach_host=True)
    try:
        await session.start()
        assert sorted(session.attached) == ["billing", "billing@billing"]
        for name in session.attached:
            got = await host_call(session, name, "ConfigGet", key="secret")
            assert (got["ok"], got["code"]) == (False, "PERMISSION_DENIED")
            assert "2 sockets register the name 'billing'" in got["details"]
        assert sum("config is withheld" in n for n in session.notices) == 2
        withheld = [e for e in session.logs if e.fields.get("goatui") == "trust"]
        assert len(withheld) == 2 and all(e.level == "warn" for e in withheld)
        # Each socket has its own cache, whatever name it registers.
        infos = {i.target: i.name for i in await session.backend.list_plugins()}
        real, fake = infos[str(billing.socket)], infos[str(impostor.socket)]
        assert (await host_call(session, real, "CacheSet", key="token", value="t0k"))["ok"]
        stolen = await host_call(session, fake, "CacheGet", key="token")
        assert stolen["ok"] and stolen["response"].get("found", False) is False
    finally:
        await session.close()

    # goatui launched billing itself: that one is billing, and the impostor is refused.
    plugins_dir.add("billing")
    options = build_parser().parse_args(
        [
            "--launch",
            "--plugins-dir",
            str(plugins_dir.root),
            "--socket",
            str(impostor.socket),
            "--attach-host",
            "ls",
        ]
    )
    session = build_session(options, config)
    try:
        await session.start()
        assert session.problems == []
        launched = await host_call(session, "billing", "ConfigGet", key="secret")
        assert launched["response"] == {"value": "s3cret", "found": True}
        assert sorted(session.attached) == ["billing", "billing@aaa"]  # launched first
        other = "billing@aaa"
        refused = await host_call(session, other, "ConfigGet", key="secret")
        assert refused["code"] == "PERMISSION_DENIED"
    finally:
        await session.close()

    # Alone, but another user's socket found by a glob: not vouched for, until named.
    billing.stop()
    if os.getuid() == 0:
        os.chown(impostor.socket, 65534, 65534)
        session = Session(
            backend=SocketBackend(Sources(globs=[glob])), config=config, attach_host=True
        )
        try:
            await session.start()
            got = await host_call(session, "billing", "ConfigGet", key="secret")
            assert (
                got["code"] == "PERMISSION_DENIED" and "belongs to another user" in got["details"]
            )
        finally:
            await session.close()
    session = make_session(impostor.socket, config=config, attach_host=True)
    try:
        await session.start()
        named = await host_call(session, "billing", "ConfigGet", key="secret")
        assert named["response"] == {"value": "s3cret", "found": True}  # --socket vouches
    finally:
        await session.close()


# -- plugin SQL reaches the --db file and nothing else -------------------------------------


async def test_plugin_sql_reaches_the_db_file_and_nothing_else(tmp_path: Path) -> None:
    """`VACUUM INTO '/path'` and `ATTACH DATABASE` wrote files anywhere (issue #18)."""
    database = Database(tmp_path / "goat.db", max_result_bytes=1024 * 1024)
    outside = tmp_path / "outside.db"
    for sql in (
        "create table t (id integer primary key, v text)",
        "create index t_v on t (v)",
        "insert into t (v) values ('a')",
        "update t set v = 'b'",
        "alter table t add column n integer",
        "create view tv as select * from t",
        "create trigger tr after insert on t begin update t set n = 1 where id = new.id; end",
        "create temp table scratch (x)",
        "create virtual table notes using fts5(body)",
        "pragma user_version = 3",
        "pragma foreign_keys = on",
        "analyze",
        "vacuum",
        "savepoint s",
        "drop view tv",
        "delete from t where id > 10",
    ):
        await database.execute(sql, [])
    assert await database.query("pragma user_version", []) == [{"user_version": 3}]
    assert [r["name"] for r in await database.query("pragma table_info(t)", [])] == ["id", "v", "n"]
    assert await database.query("select v from t", []) == [{"v": "b"}]
    for run in (database.execute, database.query):
        for sql in (
            f"vacuum into '{outside}'",
            f"attach database '{outside}' as other",
            "pragma temp_store_directory = '/tmp'",
            "pragma writable_schema = on",
            "pragma query_only = off",
            "select load_extension('/tmp/evil')",
            "create virtual table other using dbstat",
        ):
            with pytest.raises(StoreError) as refused:
                await run(sql, [])
            assert refused.value.status == "PERMISSION_DENIED", sql
            assert refused.value.message.startswith("sqlite: not authorized: "), sql
    assert not outside.exists()
    # Sizes a plugin cannot make goatui hold: one huge value, or rows without end.
    with pytest.raises(StoreError) as huge:
        await database.query("select zeroblob(2000000)", [])
    assert huge.value.status == "RESOURCE_EXHAUSTED"
    endless = "with recursive c(x) as (select 1 union all select x + 1 from c) select x from c"
    with pytest.raises(StoreError, match="larger than the 1 MiB result limit") as many:
        await database.query(endless, [])
    assert many.value.status == "RESOURCE_EXHAUSTED"


# -- Log calls handed from the gRPC worker threads to the loop ---------------------------


async def test_log_calls_from_threads_all_land_in_order_and_a_flood_is_held_back() -> None:
    """The host answers Log in gRPC's worker threads and hands the entries to the loop
    in batches (issue #19): none lost, each thread's in its order, and past the inbox's
    limit a caller waits for the loop rather than the queue growing."""
    import threading

    from goatui.core.hosting.host import LogInbox

    taken: list[tuple[str, str, str, dict[str, str], float]] = []
    batches: list[int] = []

    def take(entries: Any) -> None:
        batches.append(len(entries))
        taken.extend(entries)

    inbox = LogInbox(asyncio.get_running_loop(), take, limit=50)
    blocked = threading.Event()

    def plugin(name: str, count: int) -> None:
        for n in range(count):
            if n == 60:
                blocked.set()  # got past the limit: the loop has been draining
            assert inbox.put((name, "info", str(n), {}, 0.0))

    threads = [threading.Thread(target=plugin, args=(name, 300)) for name in ("a", "b")]
    for thread in threads:
        thread.start()
    deadline = time.monotonic() + 10
    while any(t.is_alive() for t in threads):
        assert time.monotonic() < deadline, "Log callers never released"
        await asyncio.sleep(0.005)
    await asyncio.sleep(0.05)
    inbox.close()
    assert blocked.is_set() and len(taken) == 600
    for name in ("a", "b"):
        assert [e[2] for e in taken if e[0] == name] == [str(n) for n in range(300)]
    assert max(batches) <= 50 and len(batches) < 600  # bounded by the limit, and batched
    assert not inbox.put(("a", "info", "late", {}, 0.0))  # closed: refused, not queued
