"""Where plugins are: sockets from the command line, the environment, a glob, a plugins dir."""

from __future__ import annotations

import glob
import json
import os
import re
import socket
import stat
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from goatui.core.errors import PermissionRefused, Unreachable, UsageError
from goatui.core.models import Manifest

DEFAULT_SOCKET_GLOB = "/tmp/goatflow-plugin-*.sock"
SOCKET_ENV = "GOATFLOW_PLUGIN_SOCKET"
_SOCKET_PREFIX = "goatflow-plugin-"


def socket_path(target: str) -> str:
    """The filesystem path of a socket given as a path or a `unix://` target."""
    if target.startswith("unix://"):
        return target[len("unix://") :]
    if target.startswith("unix:"):
        return target[len("unix:") :]
    return target


def grpc_target(path: str) -> str:
    """The gRPC target for a socket path (`unix:///abs/path`)."""
    return "unix://" + os.path.abspath(socket_path(path))


def name_from_socket(path: str) -> str:
    """A plugin's name as its socket file suggests (`goatflow-plugin-<name>.sock`)."""
    stem = Path(socket_path(path)).name
    stem = stem.removesuffix(".sock")
    return stem.removeprefix(_SOCKET_PREFIX) or stem


def check_socket(path: str) -> None:
    """Raise a clear error when path is not a socket goatui can connect to.

    gRPC only says "failed to connect"; the filesystem says why.
    """
    path = socket_path(path)
    try:
        st = os.stat(path)
    except FileNotFoundError:
        raise Unreachable(
            f"no socket at {path}", "is the plugin running? check GOATFLOW_PLUGIN_SOCKET"
        ) from None
    except PermissionError:
        raise PermissionRefused(
            f"no permission to reach {path}", "run as the plugin's user or fix the permissions"
        ) from None
    if not stat.S_ISSOCK(st.st_mode):
        raise Unreachable(f"{path} is not a socket", "point --socket at the plugin's socket")
    if not os.access(path, os.R_OK | os.W_OK):
        raise PermissionRefused(
            f"no permission to connect to {path}",
            "run as the plugin's user or fix the socket's permissions",
        )


@dataclass
class Sources:
    """Discovery sources, in the order the operator gave them."""

    sockets: list[str] = field(default_factory=list)
    globs: list[str] = field(default_factory=list)
    plugins_dir: str | None = None

    @classmethod
    def resolve(
        cls,
        sockets: Sequence[str] = (),
        globs: Sequence[str] = (),
        plugins_dir: str | None = None,
        environ: dict[str, str] | None = None,
    ) -> Sources:
        """Sources from options and environment; the default glob when none is named.

        `--socket` values come first, then GOATFLOW_PLUGIN_SOCKET (several paths may be
        separated by `:`). With neither and no glob, every `/tmp/goatflow-plugin-*.sock`.
        """
        env = os.environ if environ is None else environ
        explicit = [socket_path(s) for s in sockets]
        from_env = env.get(SOCKET_ENV, "")
        # ':'-separated, but the ':' of a `unix://` target does not separate.
        explicit += [socket_path(s) for s in re.split(r":(?!//)", from_env) if s]
        patterns = list(globs)
        if not explicit and not patterns:
            patterns = [DEFAULT_SOCKET_GLOB]
        return cls(sockets=_unique(explicit), globs=patterns, plugins_dir=plugins_dir)

    def socket_paths(self) -> list[str]:
        """Every socket path the sources name now (globs are expanded at each call)."""
        found = list(self.sockets)
        for pattern in self.globs:
            found += sorted(p for p in glob.glob(pattern) if _is_socket(p))
        return _unique(os.path.abspath(p) for p in found)


def accepts_connections(path: str | Path) -> bool:
    """Something listens at this Unix socket now (a file alone may be left over)."""
    probe = socket.socket(socket.AF_UNIX)
    try:
        probe.connect(str(path))
        return True
    except OSError:
        return False
    finally:
        probe.close()


def _is_socket(path: str) -> bool:
    try:
        return stat.S_ISSOCK(os.stat(path).st_mode)
    except OSError:
        return False


def _unique(items: Iterable[str]) -> list[str]:
    return list(dict.fromkeys(items))


@dataclass(frozen=True)
class InstalledPlugin:
    """A plugin as GoatFlow installs it: `<plugins dir>/<name>/manifest.json` (+ binary)."""

    name: str
    directory: Path
    manifest: Manifest

    @property
    def binary(self) -> Path | None:
        binary = self.manifest.grpc_binary
        return (self.directory / binary) if binary else None


def read_plugins_dir(plugins_dir: str) -> dict[str, InstalledPlugin]:
    """Every plugin under plugins_dir with a readable manifest, keyed by manifest name.

    A manifest without a name is keyed by its directory's name. Unreadable or malformed
    manifests are skipped here; `manifest_problems` reports them.
    """
    root = Path(plugins_dir)
    if not root.is_dir():
        raise UsageError(f"plugins dir {plugins_dir} is not a directory", "check --plugins-dir")
    found: dict[str, InstalledPlugin] = {}
    for manifest_path in sorted(root.glob("*/manifest.json")):
        try:
            manifest = Manifest.parse(manifest_path.read_bytes(), source="plugins-dir")
        except (OSError, ValueError):
            continue
        name = manifest.name or manifest_path.parent.name
        found.setdefault(name, InstalledPlugin(name, manifest_path.parent, manifest))
    return found


def manifest_problems(plugins_dir: str) -> list[str]:
    """One line for each manifest under plugins_dir that cannot be used."""
    problems = []
    for manifest_path in sorted(Path(plugins_dir).glob("*/manifest.json")):
        try:
            Manifest.parse(manifest_path.read_bytes(), source="plugins-dir")
        except OSError as exc:
            problems.append(f"{manifest_path}: cannot read: {exc.strerror}")
        except (ValueError, json.JSONDecodeError) as exc:
            problems.append(f"{manifest_path}: not a valid manifest: {exc}")
    return problems
