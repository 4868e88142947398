"""Where plugins are: sockets from the command line, the environment, a glob, a plugins dir."""

from __future__ import annotations

import glob
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
# sun_path holds 108 bytes, the last a NUL.
MAX_SOCKET_PATH = 107


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


def check_socket_path(path: str) -> None:
    """UsageError for a path that can never be a socket goatui connects to (too long for
    a socket address, a symlink loop, a file where a directory should be); a missing
    file is fine (the plugin may not be running yet)."""
    if len(os.fsencode(path)) > MAX_SOCKET_PATH:
        raise UsageError(
            f"socket path {path} is longer than the {MAX_SOCKET_PATH} bytes a Unix socket "
            "address holds",
            "use a shorter path (or a symlink to its directory)",
        )
    try:
        os.stat(path)
    except (FileNotFoundError, PermissionError):
        pass
    except OSError as exc:  # ELOOP, ENOTDIR, ENAMETOOLONG
        raise UsageError(
            f"socket path {path} cannot be a socket: {exc.strerror}",
            "point --socket at the plugin's socket",
        ) from None


def check_socket(path: str) -> None:
    """Raise a clear error when path is not a socket goatui can connect to.

    gRPC only says "failed to connect"; the filesystem says why.
    """
    path = socket_path(path)
    check_socket_path(path)
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
    except OSError as exc:
        raise Unreachable(f"cannot reach {path}: {exc.strerror}") from None
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
        for path in explicit:
            check_socket_path(path)
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


# A manifest is a few KiB; a plugin with thousands of jobs, a few MiB.
MAX_MANIFEST_BYTES = 8 * 1024 * 1024


def read_manifest(path: Path) -> Manifest:
    """A plugins dir's manifest.json, read against MAX_MANIFEST_BYTES. Raises OSError
    (unreadable) or ValueError (too large, not JSON, not an object) saying why."""
    with open(path, "rb") as file:
        data = file.read(MAX_MANIFEST_BYTES + 1)  # a FIFO or a device stops there too
    if len(data) > MAX_MANIFEST_BYTES:
        raise ValueError(f"larger than {MAX_MANIFEST_BYTES // (1024 * 1024)} MiB")
    return Manifest.parse(data, source="plugins-dir")


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
            manifest = read_manifest(manifest_path)
        except (OSError, ValueError):
            continue
        name = manifest.name or manifest_path.parent.name
        found.setdefault(name, InstalledPlugin(name, manifest_path.parent, manifest))
    return found


def broken_manifests(plugins_dir: str) -> dict[str, str]:
    """Why each manifest under plugins_dir cannot be used, by its directory's name."""
    problems = {}
    for manifest_path in sorted(Path(plugins_dir).glob("*/manifest.json")):
        try:
            read_manifest(manifest_path)
        except OSError as exc:
            problems[manifest_path.parent.name] = (
                f"{manifest_path}: cannot read: {exc.strerror or exc}"
            )
        except ValueError as exc:
            problems[manifest_path.parent.name] = f"{manifest_path}: not a valid manifest: {exc}"
    return problems


def manifest_problems(plugins_dir: str) -> list[str]:
    """One line for each manifest under plugins_dir that cannot be used."""
    return list(broken_manifests(plugins_dir).values())
