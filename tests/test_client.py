"""PluginClient and SocketBackend against real plugin processes on Unix sockets."""

from __future__ import annotations

import asyncio
import json
import os
import socket
from pathlib import Path

import pytest

from goatui.core.backends.sockets.backend import SocketBackend
from goatui.core.backends.sockets.client import PluginClient
from goatui.core.backends.sockets.discovery import Sources
from goatui.core.errors import (
    NotFound,
    PermissionRefused,
    RemoteError,
    ResultTooLarge,
    TimedOut,
    Unreachable,
)
from goatui.core.models import Health


async def test_register_and_call(plugins) -> None:
    plugin = plugins.start("alpha")
    client = PluginClient(plugin.target)
    try:
        info = await client.register()
        assert (info.name, info.version) == ("alpha", "9.9.9")
        result = await client.call("echo", b'{"a": [1, 2]}')
        assert json.loads(result.data) == {"a": [1, 2]}
        assert result.duration_ms > 0
    finally:
        await client.close()


async def test_plugin_error_carries_code_and_message(plugins) -> None:
    client = PluginClient(plugins.start().target)
    try:
        with pytest.raises(RemoteError) as caught:
            await client.call("fail", b'{"message": "disk full"}')
        assert caught.value.code == "UNKNOWN"
        assert "disk full" in caught.value.line()
        assert caught.value.exit_code == 1
        with pytest.raises(RemoteError, match="unknown function: nope"):
            await client.call("nope")
    finally:
        await client.close()


async def test_call_deadline(plugins) -> None:
    client = PluginClient(plugins.start().target)
    try:
        with pytest.raises(TimedOut, match=r"timed out after 0\.3s") as caught:
            await client.call("slow", b'{"seconds": 3}', timeout=0.3)
        assert caught.value.exit_code == 3
    finally:
        await client.close()


@pytest.mark.parametrize(
    ("mode", "expected", "note"),
    [
        ("plugin", Health.SERVING, ""),
        ("overall", Health.SERVING, ""),
        ("none", Health.UNKNOWN, "no health service"),
    ],
)
async def test_health_sources(plugins, mode: str, expected: Health, note: str) -> None:
    client = PluginClient(plugins.start(TESTPLUGIN_HEALTH=mode).target)
    try:
        probe = await client.probe()
        assert probe.health is expected
        assert probe.latency_ms is not None and probe.latency_ms > 0
        assert note in probe.error
    finally:
        await client.close()


async def test_health_not_serving_then_serving(plugins) -> None:
    client = PluginClient(plugins.start().target)
    try:
        await client.call("set_health", b'{"serving": false}')
        assert (await client.probe()).health is Health.NOT_SERVING
        await client.call("set_health", b'{"serving": true}')
        assert (await client.probe()).health is Health.SERVING
    finally:
        await client.close()


async def test_watch_streams_changes(plugins) -> None:
    client = PluginClient(plugins.start().target)
    try:
        seen = []
        async for state in client.watch():
            seen.append(state)
            if len(seen) == 1:
                await client.call("set_health", b'{"serving": false}')
            else:
                break
        assert seen == [Health.SERVING, Health.NOT_SERVING]
    finally:
        await client.close()


async def test_missing_socket_is_unreachable(sock_dir: Path) -> None:
    client = PluginClient(str(sock_dir / "absent.sock"))
    probe = await client.probe()
    assert probe.health is Health.UNREACHABLE
    assert "no socket at" in probe.error
    with pytest.raises(Unreachable, match="no socket at"):
        await client.call("echo")


async def test_plain_file_is_not_a_socket(sock_dir: Path) -> None:
    path = sock_dir / "plain.sock"
    path.write_text("")
    with pytest.raises(Unreachable, match="is not a socket"):
        await PluginClient(str(path)).call("echo")


async def test_dangling_socket_after_kill(plugins) -> None:
    plugin = plugins.start()
    plugin.kill()
    assert plugin.socket.exists()  # SIGKILL leaves the socket file behind
    client = PluginClient(plugin.target)
    try:
        assert (await client.probe()).health is Health.UNREACHABLE
        with pytest.raises(Unreachable, match="cannot connect"):
            await client.call("echo", timeout=2)
    finally:
        await client.close()


@pytest.mark.skipif(os.geteuid() == 0, reason="root ignores file permissions")
async def test_socket_without_permission(sock_dir: Path) -> None:
    path = sock_dir / "locked.sock"
    server = socket.socket(socket.AF_UNIX)
    server.bind(str(path))
    os.chmod(path, 0)
    try:
        with pytest.raises(PermissionRefused):
            await PluginClient(str(path)).call("echo")
    finally:
        server.close()


async def test_reconnects_after_restart_at_same_socket(plugins) -> None:
    plugin = plugins.start()
    client = PluginClient(plugin.target)
    try:
        assert (await client.probe()).health is Health.SERVING
        plugin.kill()
        assert (await client.probe()).health is Health.UNREACHABLE
        plugin.start()
        # The channel reconnects by itself (backoff capped at 2 s).
        for _ in range(40):
            probe = await client.probe()
            if probe.health is Health.SERVING:
                break
            await asyncio.sleep(0.1)
        assert probe.health is Health.SERVING
    finally:
        await client.close()


async def test_large_result_arrives_whole(plugins) -> None:
    client = PluginClient(plugins.start().target)
    try:
        result = await client.call("big", b'{"mb": 9}', timeout=30)
        assert len(result.data) == 9 * 1024 * 1024 + len(b'{"data": ""}')
    finally:
        await client.close()


async def test_result_above_limit_names_limit_and_option(plugins) -> None:
    client = PluginClient(plugins.start().target, max_message_mb=1)
    try:
        with pytest.raises(ResultTooLarge, match=r"1 MiB limit.*--max-message-mb"):
            await client.call("big", b'{"mb": 2}')
    finally:
        await client.close()


async def test_backend_lists_and_resolves_by_registered_name(plugins, sock_dir: Path) -> None:
    plugins.start("alpha")
    plugins.start("beta", TESTPLUGIN_HEALTH="none")
    (sock_dir / "goatflow-plugin-ghost.sock").write_text("")  # not a socket: skipped by glob
    backend = SocketBackend(Sources.resolve(globs=[str(sock_dir / "goatflow-plugin-*.sock")]))
    try:
        names = sorted(p.name for p in await backend.list_plugins())
        assert names == ["alpha", "beta"]
        result = await backend.call("beta", "echo", b'{"x": 1}')
        assert json.loads(result.data) == {"x": 1}
        with pytest.raises(NotFound, match=r"unknown plugin 'gamma'.*alpha, beta"):
            await backend.call("gamma", "echo", b"{}")
    finally:
        await backend.close()
