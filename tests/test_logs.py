"""The log stream (goatui.core.logs) and `goatui logs`."""

from __future__ import annotations

import asyncio
import itertools
import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from helpers.cli import one_line
from helpers.cli import run_goatui as goatui

from goatui.cli.cmd_logs import format_entry
from goatui.core.errors import UsageError
from goatui.core.logs import (
    MAX_MESSAGE_BYTES,
    LogFilter,
    LogStore,
    export_jsonl,
    level_rank,
    parse_min_level,
    rfc3339,
)
from goatui.core.sanitize import UNSAFE_CODEPOINTS

HOSTILE = "\x1b[2J\x1b]0;pwned\x07[bold red]markup[/]\x9b31m"


def fill(store: LogStore, count: int, plugin: str = "p", level: str = "info") -> None:
    for i in range(count):
        store.add(plugin, level, f"line {i}", {"seq": str(i)})


# -- the ring ------------------------------------------------------------------------------


def test_nothing_dropped_below_the_bound_and_order_kept() -> None:
    store = LogStore(capacity=100)
    fill(store, 100)
    assert store.dropped == 0
    assert [e.fields["seq"] for e in store] == [str(i) for i in range(100)]
    fill(store, 30)
    assert len(store) == 100 and store.dropped == 30
    assert [e.seq for e in store] == list(range(31, 131))


def test_since_returns_what_is_new_and_what_was_missed() -> None:
    store = LogStore(capacity=10)
    fill(store, 5)
    new, missed = store.since(0)
    assert [e.seq for e in new] == [1, 2, 3, 4, 5] and missed == 0
    assert store.since(5) == ([], 0)
    fill(store, 20)
    new, missed = store.since(5)
    assert [e.seq for e in new] == list(range(16, 26)) and missed == 10


async def test_subscribers_get_batches_not_single_entries() -> None:
    store = LogStore()
    batches: list[list[int]] = []
    unsubscribe = store.subscribe(lambda batch: batches.append([e.seq for e in batch]))
    fill(store, 1000)
    assert batches == []  # delivered on the next tick, all at once
    await asyncio.sleep(0.2)
    assert batches == [list(range(1, 1001))]
    unsubscribe()
    fill(store, 5)
    await asyncio.sleep(0.2)
    assert len(batches) == 1


def test_entries_keep_raw_text_and_goatflow_shape() -> None:
    store = LogStore()
    entry = store.add("evil", "warn", HOSTILE, {"k": "\x07"}, timestamp=0.5)
    assert entry.message == HOSTILE  # stored as sent; sanitised only when shown
    assert entry.to_json() == {
        "timestamp": "1970-01-01T00:00:00.500000Z",
        "plugin": "evil",
        "level": "warn",
        "message": HOSTILE,
        "fields": {"k": "\x07"},
    }
    line = format_entry(entry, colour=False)
    assert not any(ord(ch) in UNSAFE_CODEPOINTS for ch in line)
    assert "\\x1b[2J" in line and "k=\\x07" in line


def test_rfc3339_is_utc() -> None:
    assert rfc3339(1_700_000_000.25) == "2023-11-14T22:13:20.250000Z"


# -- filters -------------------------------------------------------------------------------


def test_levels_order_and_aliases() -> None:
    assert level_rank("debug") < level_rank("info") < level_rank("warn") < level_rank("error")
    assert level_rank("WARNING") == level_rank("warn")
    assert level_rank("stdout") == level_rank("stderr") == level_rank("info")
    assert parse_min_level("Warning") == "warn"
    with pytest.raises(UsageError):
        parse_min_level("loud")


def test_filters_by_plugin_level_and_text() -> None:
    store = LogStore()
    store.add("alpha", "debug", "starting up")
    store.add("alpha", "stderr", "Disk almost full")
    store.add("beta", "warning", "slow upstream", {"host": "db1"})
    store.add("beta", "error", "upstream refused", {"attempt": "3"})
    entries = list(store)

    def messages(f: LogFilter) -> list[str]:
        return [e.message for e in f.apply(entries)]

    assert len(messages(LogFilter())) == 4
    assert messages(LogFilter(plugins=frozenset({"beta"}))) == ["slow upstream", "upstream refused"]
    assert messages(LogFilter(min_level="info")) == [
        "Disk almost full",
        "slow upstream",
        "upstream refused",
    ]
    assert messages(LogFilter(min_level="warning")) == ["slow upstream", "upstream refused"]
    assert messages(LogFilter(text="DISK")) == ["Disk almost full"]
    assert messages(LogFilter(text="host=db1")) == ["slow upstream"]
    assert messages(LogFilter(text=r"attempt=\d", regex=True)) == ["upstream refused"]
    assert messages(LogFilter(text="up.", regex=False)) == []  # literal, not a pattern
    with pytest.raises(UsageError, match="regular expression"):
        LogFilter(text="(", regex=True)


def test_export_jsonl(tmp_path: Path) -> None:
    store = LogStore()
    store.add("alpha", "info", "one", {"n": "1"})
    store.add("alpha", "error", HOSTILE)
    path = tmp_path / "out.jsonl"
    assert export_jsonl(store, path) == 2
    lines = path.read_text(encoding="utf-8").splitlines()
    assert [json.loads(line)["message"] for line in lines] == ["one", HOSTILE]
    assert not any(ord(ch) in UNSAFE_CODEPOINTS for ch in path.read_text(encoding="utf-8"))


def test_entries_and_the_ring_are_bounded_in_bytes() -> None:
    """2,000 Log calls of 1 MB took goatui to 2 GB (issue #18): an entry keeps 64 KiB of
    its message and 64 fields in 16 KiB, and says what was cut; the ring holds at most
    its byte budget, dropping the oldest (counted)."""
    store = LogStore(capacity=1_000, max_bytes=1024 * 1024)
    fields = {f"k{i}": "v" for i in range(100)}
    entry = store.add("p", "info", "x" * 1_048_576, fields)
    assert entry.message == "x" * MAX_MESSAGE_BYTES + (
        " [goatui: message cut from 1,048,576 to 65,536 bytes;"
        " 36 of 100 fields dropped (at most 64, 16 KiB in all)]"
    )
    assert list(entry.fields) == [f"k{i}" for i in range(64)]
    wide = store.add("p", "i" * 1000, "é" * 40_000, {"big": "y" * 20_000})
    assert wide.level == "i" * 64
    assert wide.message.startswith("é" * 32_768 + " [goatui: level cut from 1,000 bytes;")
    assert "field 'big' cut from 20,000 bytes" in wide.message
    assert len(wide.fields["big"]) == 16 * 1024 - len("big")
    assert store.add("p", "info", "small", {"a": "b"}).message == "small"  # untouched
    for _ in range(100):
        store.add("p", "info", "z" * 60_000)
    assert store.bytes <= 1024 * 1024 and store.dropped > 80 and len(store) < 20


@pytest.mark.parametrize(
    ("shape", "make", "most"),
    [
        # A WASM plugin's flood: short lines, one call's fields.
        ("flood", lambda i: ("command-test", "info", f"line {i} ", {"call": "flood"}), 1.2),
        ("no fields", lambda i: ("alpha", "warn", f"warning number {i}", None), 1.2),
        # A socket plugin's Log calls: a new level string and new fields each time.
        (
            "log calls",
            lambda i: ("alpha", "".join(["in", "fo"]), f"served {i}", {"path": f"/x/{i}"}),
            None,
        ),
        ("latin-1", lambda i: ("alpha", "info", "é" * 50 + str(i), {"k": "v"}), None),
        ("astral", lambda i: ("alpha", "info", "😀" * 20 + str(i), {"k": str(i)}), None),
        ("long", lambda i: ("alpha", "info", "x" * 10_000 + str(i), None), None),
        ("many names", lambda i: ("p" * 70 + str(i % 7), "x" * 70, f"m{i}", {f"k{i}": "v"}), None),
    ],
)
def test_the_byte_bound_counts_what_entries_really_hold(
    shape: str, make: Any, most: float | None
) -> None:
    """The store counts at least the memory its entries take (tracemalloc measures it),
    and not much more for a flood of short lines: it must not drop what it has room for
    (100,000 lines of a WASM plugin's flood took 61 MB by the old count, 20 MB in fact)."""
    import gc
    import tracemalloc

    count = 5_000
    store = LogStore(capacity=count, max_bytes=1 << 40)
    gc.collect()
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        for i in range(count):
            plugin, level, message, fields = make(i)
            store.add(plugin, level, message, fields, time.time())
        held = tracemalloc.get_traced_memory()[0] - before
    finally:
        tracemalloc.stop()
    assert store.bytes >= held, shape
    if most is not None:
        assert store.bytes <= most * held, shape


def test_consecutive_entries_share_their_fields_and_the_count_stays_true() -> None:
    """Lines with the same fields hold one dict; as the oldest go, the count is what the
    entries left hold (the same as a store given only them)."""
    store = LogStore(capacity=40, max_bytes=12_000)
    choices = [None, {"call": "a"}, {"call": "a"}, {"call": "b", "n": "1"}, {}]
    for i in range(500):
        fields = choices[(i // 3 + i // 7) % len(choices)]  # runs, changing
        plugin = "p" if i % 4 else "q" * 70  # the long name is not held once
        text = ("é" if i % 5 == 0 else "y") * (i % 50)
        store.add(plugin, "info" if i % 6 else "x" * 80, f"line {i}" + text, fields)
        again = LogStore(capacity=1_000, max_bytes=1 << 40)
        again.add_many((e.plugin, e.level, e.message, e.fields, e.timestamp) for e in store)
        assert store.bytes == again.bytes
        assert store.bytes <= 12_000 and len(store) <= 40
    entries = list(store)
    assert store.dropped == 500 - len(entries)
    pairs = list(itertools.pairwise(entries))
    assert any(a.fields and a.fields == b.fields for a, b in pairs)
    assert all(a.fields is b.fields for a, b in pairs if a.fields == b.fields)


# -- goatui logs ---------------------------------------------------------------------------


def test_logs_needs_a_host(plugins) -> None:
    result = goatui("logs")
    assert result.returncode == 2
    assert result.stderr.count("\n") == 1 and "--launch" in result.stderr
    assert "Traceback" not in result.stderr


def test_logs_attach_host_exits_with_the_code_of_what_went_wrong(
    plugins: Any, tmp_path: Path, cli: Any
) -> None:
    """Nothing attached is no success (it exited 0): each plugin that could not be
    attached gets a line, and the exit code is the first one's, after what the others
    sent (as with a fleet's logs)."""
    missing = tmp_path / "goatflow-plugin-gone.sock"
    alone = cli("logs", "--attach-host", "--socket", str(missing), "--for", "0.2")
    assert alone.returncode == 3
    assert one_line(alone.stderr) == (
        f"goatui: plugin gone: not attached: no socket at {missing}; is the plugin running?"
        " check GOATFLOW_PLUGIN_SOCKET"
    )
    alpha = plugins.start("alpha")
    args = ("--socket", str(alpha.socket), "--socket", str(missing), "--for", "0.3", "--json")
    mixed = cli("logs", "--attach-host", *args)
    assert mixed.returncode == 3
    assert "host attached" in [json.loads(line)["message"] for line in mixed.stdout.splitlines()]
    assert "plugin gone: not attached: no socket at" in mixed.stderr
    config = tmp_path / "config.toml"
    config.write_text(f"globs = [{json.dumps(str(tmp_path / 'none-*.sock'))}]\n")
    nothing = cli("--config", str(config), "logs", "--attach-host")
    assert nothing.returncode == 3
    assert one_line(nothing.stderr) == (
        "goatui: no plugins found to host; pass --socket PATH or start one"
    )


def test_logs_without_follow_prints_startup_and_exits(plugins_dir) -> None:
    plugins_dir.add("alpha", say=HOSTILE)
    plugins_dir.add("beta")
    started = time.monotonic()
    result = goatui("logs", "--launch", "--plugins-dir", str(plugins_dir.root), "--for", "0.5")
    assert result.returncode == 0, result.stderr
    assert time.monotonic() - started < 10
    lines = result.stdout.splitlines()
    assert any(" alpha INFO " in line and "host attached address=unix://" in line for line in lines)
    assert any(" beta STDOUT " in line for line in lines)
    assert any("\\x1b[2J" in line for line in lines)
    assert not any(ord(ch) in UNSAFE_CODEPOINTS for ch in result.stdout)


def test_logs_json_with_filters(plugins_dir) -> None:
    plugins_dir.add("alpha")
    plugins_dir.add("beta")
    result = goatui(
        "logs",
        "--launch",
        "--plugins-dir",
        str(plugins_dir.root),
        "--for",
        "0.5",
        "--json",
        "--plugin",
        "beta",
        "--level",
        "info",
        "--grep",
        "^host",
    )
    assert result.returncode == 0, result.stderr
    entries = [json.loads(line) for line in result.stdout.splitlines()]
    assert len(entries) == 1
    assert entries[0]["plugin"] == "beta" and entries[0]["message"] == "host attached"
    assert entries[0]["timestamp"].endswith("Z")
    assert set(entries[0]) == {"timestamp", "plugin", "level", "message", "fields"}
    bad = goatui("logs", "--launch", "--plugins-dir", str(plugins_dir.root), "--level", "loud")
    assert bad.returncode == 2 and "unknown level" in bad.stderr


def test_logs_from_the_gateway(tmp_path: Path) -> None:
    """With a gateway, `goatui logs` reads GoatFlow's own buffer (no host needed)."""
    from helpers.gateway_server import ADMIN_TOKEN, GatewayServer

    with GatewayServer() as gw:
        gw.state.log("alpha", "info", "first", n="1")
        gw.state.log("beta", "error", HOSTILE)
        gw.state.log("alpha", "debug", "chatter")
        result = subprocess.run(
            [sys.executable, "-m", "goatui", "logs", "--gateway", gw.url, "--level", "info"],
            capture_output=True,
            text=True,
            timeout=30,
            env=dict(os.environ, NO_COLOR="1", GOATFLOW_TOKEN=ADMIN_TOKEN),
        )
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert len(lines) == 2, lines
    assert " alpha INFO " in lines[0] and lines[0].endswith("first n=1")  # oldest first
    assert " beta ERROR " in lines[1]
    assert not any(ord(ch) in UNSAFE_CODEPOINTS for ch in result.stdout)
