"""Following GoatFlow's plugin log buffer by polling: no duplicates, no silent gaps."""

from __future__ import annotations

from collections import deque
from typing import Any

import pytest
from helpers.gateway_server import USER_TOKEN, GatewayServer
from hypothesis import given, settings
from hypothesis import strategies as st

from goatui.core.backends.base import store_sink
from goatui.core.backends.gateway.logpoll import GatewayLogPoller, LogMerger, LogPage
from goatui.core.backends.gateway.rest import GatewayBackend
from goatui.core.errors import ExitCode, GoatError, PermissionRefused
from goatui.core.logs import LogStore


def messages(entries: list[dict[str, Any]]) -> list[str]:
    return [e["message"] for e in entries]


def is_marker(entry: dict[str, Any]) -> bool:
    return entry["fields"].get("goatui") == "gap"


def log_many(gw: GatewayServer, start: int, stop: int, plugin: str = "alpha") -> None:
    for n in range(start, stop):
        gw.state.log(plugin, "info", f"m{n}")


async def test_logs_need_an_admin_token(gw: GatewayServer) -> None:
    user = GatewayBackend(gw.url, token=USER_TOKEN)
    with pytest.raises(PermissionRefused) as info:
        await user.fetch_logs()
    assert info.value.exit_code == ExitCode.AUTH
    assert "reading the gateway's plugin logs: admin access required" in info.value.line()
    await user.close()


async def test_logs_come_newest_first_in_goatflows_shape(
    backend: GatewayBackend, gw: GatewayServer
) -> None:
    gw.state.log("alpha", "warn", "disk low", free="3%")
    gw.state.log("beta", "info", "hello")
    entries = (await backend.fetch_logs()).entries
    assert messages(entries) == ["hello", "disk low"]
    assert entries[1] == {
        "timestamp": "2025-01-01T00:00:00.001000Z",
        "plugin": "alpha",
        "level": "warn",
        "message": "disk low",
        "fields": {"free": "3%"},
    }


async def test_poller_yields_each_entry_once_oldest_first(
    backend: GatewayBackend, gw: GatewayServer
) -> None:
    poller = GatewayLogPoller(backend)
    log_many(gw, 0, 5)
    assert messages(await poller.poll()) == [f"m{n}" for n in range(5)]
    assert await poller.poll() == []
    log_many(gw, 5, 8)
    assert messages(await poller.poll()) == ["m5", "m6", "m7"]
    # The whole buffer is asked for each time.
    assert gw.state.requests[-1][1] == "/api/v1/plugins/logs?limit=1000"


async def test_a_moving_full_buffer_loses_nothing(
    backend: GatewayBackend, gw: GatewayServer
) -> None:
    poller = GatewayLogPoller(backend)
    log_many(gw, 0, 1000)
    assert len(await poller.poll()) == 1000
    # The ring drops its oldest 600 to take 600 new ones: all 600 arrive, no marker.
    log_many(gw, 1000, 1600)
    batch = await poller.poll()
    assert messages(batch) == [f"m{n}" for n in range(1000, 1600)]


async def test_overflow_between_polls_is_said(backend: GatewayBackend, gw: GatewayServer) -> None:
    poller = GatewayLogPoller(backend)
    log_many(gw, 0, 10)
    await poller.poll()
    log_many(gw, 10, 1510)
    batch = await poller.poll()
    assert is_marker(batch[0]) and "overflowed" in batch[0]["message"]
    assert batch[0]["plugin"] == "goatui" and batch[0]["level"] == "warn"
    assert messages(batch[1:]) == [f"m{n}" for n in range(510, 1510)]


async def test_a_cleared_buffer_is_said(backend: GatewayBackend, gw: GatewayServer) -> None:
    poller = GatewayLogPoller(backend)
    log_many(gw, 0, 5)
    await poller.poll()
    await backend.clear_logs()
    log_many(gw, 5, 7)
    batch = await poller.poll()
    assert is_marker(batch[0]) and "cleared" in batch[0]["message"]
    assert messages(batch[1:]) == ["m5", "m6"]
    await backend.clear_logs()
    [marker] = await poller.poll()
    assert "cleared" in marker["message"]
    log_many(gw, 7, 8)
    assert messages(await poller.poll()) == ["m7"]


async def test_plugin_filter_server_side_level_filter_here(
    backend: GatewayBackend, gw: GatewayServer
) -> None:
    poller = GatewayLogPoller(backend, plugin="alpha", min_level="warn")
    gw.state.log("alpha", "debug", "noise")
    gw.state.log("alpha", "error", "boom")
    gw.state.log("beta", "error", "not mine")
    gw.state.log("alpha", "warn", "careful")
    assert messages(await poller.poll()) == ["boom", "careful"]
    # Only one filter applies server side: the plugin.
    assert gw.state.requests[-1][1] == "/api/v1/plugins/logs?plugin=alpha&limit=1000"


async def test_poller_feeds_the_log_store(backend: GatewayBackend, gw: GatewayServer) -> None:
    store = LogStore(100)
    poller = GatewayLogPoller(backend, interval=0.01)
    gw.state.log("alpha", "warn", "disk low", free="3%")
    batches: list[int] = []
    sink = store_sink(store)

    errors: list[str] = []

    def on_round(entries: list[dict[str, Any]], failures: list[GoatError]) -> None:
        if failures:
            errors.extend(f.line() for f in failures)
            _recover(gw)
            return
        sink(entries)
        batches.append(len(entries))
        raise Done

    with pytest.raises(Done):
        gw.state.forced["GET", "/plugins/logs"] = (500, "text/plain", b"down")
        await poller.run(on_round)
    assert errors and "HTTP 500" in errors[0]
    assert batches == [2]  # after the failed poll, polling went on
    [entry, later] = list(store)
    assert (entry.plugin, entry.level, entry.message) == ("alpha", "warn", "disk low")
    assert entry.fields == {"free": "3%"}
    assert entry.timestamp == pytest.approx(1735689600.001)
    assert later.message == "later"


class Done(Exception):
    pass


def _recover(gw: GatewayServer) -> None:
    gw.state.forced.clear()
    gw.state.log("alpha", "info", "later")


# -- the merge, checked against a model of GoatFlow's ring --------------------------------

CAPACITY = 8


@settings(max_examples=200, deadline=None)
@given(
    st.lists(
        st.one_of(st.integers(min_value=0, max_value=2 * CAPACITY + 2), st.just(-1)),
        max_size=25,
    )
)
def test_merge_never_duplicates_and_never_drops_silently(steps: list[int]) -> None:
    """Between polls the buffer takes n entries (or is cleared, -1). Whatever a poll
    returns is new, in order; whatever it cannot return is announced by a marker."""
    ring: deque[dict[str, Any]] = deque(maxlen=CAPACITY)
    merger = LogMerger(limit=CAPACITY)
    next_id = 0
    seen: list[int] = []
    seen_a_poll = False
    for step in steps:
        added = []
        if step == -1:
            ring.clear()
        for _ in range(max(step, 0)):
            entry = {"timestamp": "", "plugin": "p", "level": "info", "message": str(next_id)}
            entry["fields"] = {}
            ring.append(entry)
            added.append(next_id)
            next_id += 1
        page = LogPage(list(reversed(ring)), len(ring), len(ring))
        out = merger.merge(page)
        markers = [e for e in out if is_marker(e)]
        got = [int(e["message"]) for e in out if not is_marker(e)]
        assert got == sorted(got) and not set(got) & set(seen), "a duplicate or disorder"
        assert set(got) <= set(added), "an old entry came back"
        # Before the first poll is history, not a gap.
        if seen_a_poll and set(added) - set(got):
            assert markers, f"lost {sorted(set(added) - set(got))} without saying so"
        seen += got
        seen_a_poll = True
