"""goatui as HostService: real plugin processes call it, and it answers from its own state."""

from __future__ import annotations

import asyncio
import json
import sqlite3
import stat
import time
from pathlib import Path
from typing import Any

import pytest
from helpers.cli import run_goatui as goatui

from goatui.core.backends.sockets.backend import SocketBackend
from goatui.core.backends.sockets.client import PluginClient
from goatui.core.backends.sockets.discovery import Sources
from goatui.core.config import Config, load_config
from goatui.core.hosting.stores import Database, HostCache, StoreError
from goatui.core.session import Session


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
