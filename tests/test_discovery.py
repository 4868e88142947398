"""Finding plugins: --socket, GOATFLOW_PLUGIN_SOCKET, the default glob, the plugins dir."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from goatui.core.backends.sockets.backend import SocketBackend
from goatui.core.backends.sockets.discovery import (
    DEFAULT_SOCKET_GLOB,
    Sources,
    grpc_target,
    manifest_problems,
    name_from_socket,
    read_plugins_dir,
)
from goatui.core.errors import UsageError

MANIFEST = {
    "name": "alpha",
    "version": "1.0.0",
    "type": "grpc",
    "grpc": {"binary": "alpha"},
    "routes": [{"method": "GET", "path": "/x", "handler": "list_things"}],
    "widgets": [{"id": "w", "title": "W", "handler": "render_w"}],
    "jobs": [{"id": "j", "schedule": "0 6 * * *", "handler": "list_things"}],
    "permissions": ["db:read"],
}


def test_socket_option_accepts_paths_and_unix_targets() -> None:
    sources = Sources.resolve(sockets=["unix:///tmp/a.sock", "/tmp/b.sock"], environ={})
    assert sources.sockets == ["/tmp/a.sock", "/tmp/b.sock"]
    assert sources.globs == []
    assert grpc_target("/tmp/a.sock") == "unix:///tmp/a.sock"


def test_environment_adds_sockets() -> None:
    sources = Sources.resolve(environ={"GOATFLOW_PLUGIN_SOCKET": "/tmp/x.sock:unix:///tmp/y.sock"})
    assert sources.sockets == ["/tmp/x.sock", "/tmp/y.sock"]


def test_default_glob_when_nothing_named() -> None:
    assert Sources.resolve(environ={}).globs == [DEFAULT_SOCKET_GLOB]
    assert DEFAULT_SOCKET_GLOB == "/tmp/goatflow-plugin-*.sock"


def test_glob_finds_only_sockets(plugins, sock_dir: Path) -> None:
    plugins.start("alpha")
    (sock_dir / "goatflow-plugin-fake.sock").write_text("not a socket")
    sources = Sources.resolve(globs=[str(sock_dir / "goatflow-plugin-*.sock")], environ={})
    assert [name_from_socket(p) for p in sources.socket_paths()] == ["alpha"]


def test_name_from_socket() -> None:
    assert name_from_socket("/tmp/goatflow-plugin-analytics.sock") == "analytics"
    assert name_from_socket("unix:///run/x/other.sock") == "other"


def write_manifest(root: Path, directory: str, document: object) -> None:
    (root / directory).mkdir(parents=True)
    (root / directory / "manifest.json").write_text(
        document if isinstance(document, str) else json.dumps(document)
    )


def test_plugins_dir_layout(tmp_path: Path) -> None:
    write_manifest(tmp_path, "alpha", MANIFEST)
    write_manifest(tmp_path, "broken", "{not json")
    installed = read_plugins_dir(str(tmp_path))
    assert list(installed) == ["alpha"]
    assert installed["alpha"].binary == tmp_path / "alpha" / "alpha"
    assert installed["alpha"].manifest.handlers() == ["list_things", "render_w"]
    assert len(manifest_problems(str(tmp_path))) == 1
    with pytest.raises(UsageError, match="not a directory"):
        read_plugins_dir(str(tmp_path / "missing"))


async def test_manifest_sources(plugins, tmp_path: Path, sock_dir: Path) -> None:
    """From RegisterResponse.manifest first, else the plugins dir, else none."""
    own = tmp_path / "own.json"
    own.write_text(json.dumps({**MANIFEST, "name": "beta", "description": "from the plugin"}))
    write_manifest(tmp_path / "plugins", "alpha", MANIFEST)
    write_manifest(tmp_path / "plugins", "beta", {**MANIFEST, "name": "beta"})
    plugins.start("alpha")
    plugins.start("beta", TESTPLUGIN_MANIFEST=str(own))
    plugins.start("gamma")
    backend = SocketBackend(
        Sources.resolve(
            globs=[str(sock_dir / "*.sock")], plugins_dir=str(tmp_path / "plugins"), environ={}
        )
    )
    try:
        found = {p.name: p for p in await backend.list_plugins()}
    finally:
        await backend.close()
    assert found["alpha"].manifest is not None
    assert found["alpha"].manifest.source == "plugins-dir"
    assert found["beta"].manifest is not None
    assert found["beta"].manifest.source == "plugin"
    assert found["beta"].manifest.description == "from the plugin"
    assert found["gamma"].manifest is None
