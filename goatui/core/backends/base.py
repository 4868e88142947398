"""One interface for every way of reaching plugins: `Backend`, and what it can do.

Views, CLI commands and the session talk to `Backend` and never know what is behind it
(plugin sockets, GoatFlow's gateway, a fleet of contexts). Where behaviour differs they
ask the backend's `capabilities` or call one of its methods; no code outside
`goatui.core.backends` names a backend class (tests/test_architecture.py keeps it so).
"""

from __future__ import annotations

import asyncio
import json
import time
from abc import ABC, abstractmethod
from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from typing import TYPE_CHECKING, Any, Literal, Protocol

from goatui.core.calls.results import check_result
from goatui.core.errors import GoatError, RemoteError, UsageError
from goatui.core.limits import DEFAULT_CALL_TIMEOUT_S, DEFAULT_MAX_MESSAGE_MB
from goatui.core.models import CallResult, Health, PluginInfo, Probe
from goatui.core.sanitize import clip, sanitize_line

if TYPE_CHECKING:
    from pathlib import Path

    from goatui.core.backends.sockets.client import PluginClient
    from goatui.core.hosting.stores import HostState
    from goatui.core.logs import LogStore


@dataclass(frozen=True)
class HostTarget:
    """A plugin goatui is to become the host of, as goatui knows it: not as it claims.

    Its host endpoint, and the cache namespace behind it, belong to `socket` (the
    socket goatui attached to, or launched the plugin on). It reads the config's
    [plugins.NAME] section only as `config_name`, which is None when goatui cannot tell
    that the plugin there is NAME (`withheld` says why): see the README's trust model.
    """

    name: str  # as listed: what the log stream and the host trace call it
    socket: str
    client: PluginClient
    config_name: str | None
    withheld: str = ""


class LogSource(StrEnum):
    """Where the plugins' log lines come from."""

    #: Only from plugins goatui hosts (it launched them, or attached to them).
    HOSTED = "hosted"
    #: From a log buffer the backend keeps, which goatui follows (`log_poller`).
    BUFFER = "buffer"


@dataclass(frozen=True)
class Capabilities:
    """What a backend can do; views and commands ask this instead of its type."""

    logs: LogSource = LogSource.HOSTED
    #: goatui can launch plugins beside these, and become a plugin's host (SetHost):
    #: `adopt_socket`, `host_target` and `narrow_discovery` work.
    hosting: bool = False
    #: Plugins can be enabled and disabled (`set_enabled`; a gateway admin action).
    enable_disable: bool = False
    #: One answer holds every plugin's state (a gateway's list): `probe_all` costs one
    #: request, so the console probes all plugins together rather than each on its own.
    probes_together: bool = False
    #: Some plugins run inside goatui (WebAssembly modules): goatui is always their host,
    #: so their log lines and host calls come to it; `runs_inside` and `reload` work.
    in_process: bool = False


@dataclass(frozen=True)
class SignInStatus:
    """How goatui is signed in to one gateway, for the console's header and notice."""

    gateway: str
    context: str | None
    #: "sign-in" (from goatui login: refreshed), "token" (explicit) or "none".
    kind: Literal["sign-in", "token", "none"]
    user: str = ""
    admin: bool | None = None
    #: Why no usable token is left; "" when requests can be sent.
    problem: str = ""
    #: An admin action was refused because the refreshed token carries no admin rights.
    admin_lost: bool = False
    expires_at: float | None = None

    @property
    def login_command(self) -> str:
        return login_command(self.gateway, self.context)

    def describe(self) -> str:
        """ "ops (admin)", "signed out", "$GOATFLOW_TOKEN"... for a header line."""
        if self.problem:
            return "signed out"
        if self.kind == "none":
            return "not signed in"
        if self.kind == "token":
            return "token"
        role = " (admin)" if self.admin else ""
        if self.admin_lost:
            role = " (admin rights lost at refresh)"
        return f"{sanitize_line(self.user) or 'signed in'}{role}"


def login_command(gateway: str, context: str | None) -> str:
    where = f"--context {context}" if context else f"--gateway {gateway}"
    return sanitize_line(f"goatui login {where}")


@dataclass(frozen=True)
class Origin:
    """How a command line reaches a plugin again (for "copy as command")."""

    sockets: tuple[str, ...] = ()
    #: An HTTP API base URL (calls can be repeated with curl against it).
    gateway: str | None = None
    context: str | None = None
    #: The plugin's name there, when it differs from the name shown (`alpha@prod`).
    name: str | None = None
    #: WebAssembly module files goatui runs the plugin from (`--wasm FILE`).
    wasm: tuple[str, ...] = ()


class InProcessHosting(Protocol):
    """What a session gives a backend that runs plugins inside goatui (`bind`)."""

    def host_state(self) -> HostState:
        """What goatui's host answers from: the cache, database, config, log stream and
        host-call trace the gRPC HostService uses too (made on first use)."""
        ...

    def private_dir(self) -> Path:
        """goatui's private runtime directory (0700), removed when the session ends."""
        ...

    async def call_plugin(self, plugin: str, function: str, args: bytes, timeout: float) -> bytes:
        """Call any plugin the session knows, whatever backend it is on (plugin_call)."""
        ...


class Backend(ABC):
    """What the CLI and the console need from wherever the plugins are."""

    #: Shown to the operator: where this backend looks ("sockets", a gateway URL…).
    label: str = ""
    #: Things the operator must be told about this connection (e.g. TLS checks off).
    warnings: Sequence[str] = ()
    capabilities: Capabilities = Capabilities()
    #: The largest answer accepted, MiB (the host serving these plugins uses it too).
    max_message_mb: int = DEFAULT_MAX_MESSAGE_MB

    @abstractmethod
    async def list_plugins(self) -> list[PluginInfo]:
        """Every plugin found now, reachable or not (unreachable ones carry `error`)."""

    @abstractmethod
    async def probe(self, plugin: PluginInfo) -> Probe:
        """The plugin's health and latency now. Never raises."""

    async def probe_all(self, plugins: Sequence[PluginInfo]) -> list[Probe]:
        """Every plugin's `probe`, in order. A backend whose one answer holds every
        plugin's state (a gateway's list) answers all from it, not one task per plugin."""
        return list(await asyncio.gather(*(self.probe(p) for p in plugins)))

    @abstractmethod
    async def call(
        self, plugin: str, function: str, args: bytes, timeout: float = DEFAULT_CALL_TIMEOUT_S
    ) -> CallResult:
        """Call a handler. Raises GoatError subclasses."""

    async def widget_html(
        self, plugin: str, handler: str, widget_id: str, timeout: float = DEFAULT_CALL_TIMEOUT_S
    ) -> tuple[str, float]:
        """A widget's HTML and how long it took (ms): by default, its handler called with {}."""
        result = await self.call(plugin, handler, b"{}", timeout)
        check_result(result, f"widget {widget_id} of {plugin}")
        return widget_html_from_result(result.data), result.duration_ms

    async def set_enabled(self, plugin: str, enabled: bool) -> str:
        """Enable or disable a plugin (a gateway admin action); returns its new status."""
        verb = "enabling" if enabled else "disabling"
        raise UsageError(f"{verb} plugins is not available with {self.label}", "use --gateway URL")

    def last_call_ms(self, plugin: str) -> float | None:
        """How long the last call to plugin took, when the backend keeps it."""
        return None

    def watch(self, plugin: PluginInfo) -> AsyncIterator[Health] | None:
        """A stream of the plugin's health changes, or None when the backend has none."""
        return None

    def watch_source(self, plugin: PluginInfo) -> str:
        """What `watch` streams from, as the operator is told ("... streamed NOT_SERVING")."""
        return "Health.Watch"

    def origin(self, plugin: PluginInfo | None) -> Origin:
        """How `goatui call` (or curl) reaches this plugin again."""
        return Origin()

    def log_poller(
        self, *, plugin: str | None = None, min_level: str | None = None
    ) -> LogPoller | None:
        """What follows this backend's log buffer (`LogSource.BUFFER`), else None."""
        return None

    # -- plugins running inside goatui (`capabilities.in_process`) ------------------------

    def bind(self, hosting: InProcessHosting) -> None:  # noqa: B027 - optional hook
        """The session starts: what plugins running inside goatui need from it."""

    def runs_inside(self, plugin: str) -> bool:
        """Whether goatui runs this plugin itself (a WASM module): it is the plugin's
        host, and `reload` works."""
        return False

    async def reload(self, plugin: str) -> str:
        """Load the plugin's file again; returns what happened, for the operator."""
        raise UsageError(f"plugin {plugin!r} does not run inside goatui: it cannot be reloaded")

    # -- signing in (gateways) -----------------------------------------------------------

    def sign_in_status(self) -> list[SignInStatus]:
        """How goatui is signed in to each gateway behind this backend (none: [])."""
        return []

    async def sign_in(
        self, login: str, password: str, *, gateway: str | None = None
    ) -> SignInStatus:
        """Sign in to the gateway (the one named, in a fleet) and keep the sign-in."""
        raise UsageError(f"signing in is for gateways, not {self.label}", "pass --gateway URL")

    def sign_out(self, *, gateway: str | None = None) -> bool:
        """Forget the gateway's stored sign-in; False when there was none."""
        raise UsageError(f"signing out is for gateways, not {self.label}", "pass --gateway URL")

    # -- hosting (`capabilities.hosting`) ------------------------------------------------

    def narrow_discovery(self, globs: Sequence[str]) -> None:  # noqa: B027 - optional hook
        """With --launch: watch the launched plugins and these globs, not the default one
        (which would mix in, and with --attach-host take over, every plugin on the host)."""

    def adopt_socket(self, path: str) -> PluginClient:
        """A socket goatui launched a plugin on joins this backend; its client."""
        raise UsageError(f"launching plugins needs plugin sockets, not {self.label}")

    async def host_target(self, plugin: str) -> HostTarget:
        """What goatui knows of a plugin found by name, to become its host (SetHost)."""
        raise UsageError("attaching the host needs plugin sockets, not a gateway")

    async def close(self) -> None:  # noqa: B027 - optional hook
        """Release connections."""


# -- log buffers ---------------------------------------------------------------------------

RoundCallback = Callable[[list[dict[str, Any]], list[GoatError]], None]


class LogPoller(ABC):
    """Follows a backend's log buffer by polling it every `interval`; no Textual here.

    Entries are dicts in GoatFlow's shape (timestamp, plugin, level, message, fields),
    oldest first; `store_sink` feeds them to goatui's LogStore.
    """

    interval: float

    @abstractmethod
    async def poll_round(self) -> tuple[list[dict[str, Any]], list[GoatError]]:
        """One poll: the new entries, oldest first, and what failed."""

    async def run(self, on_round: RoundCallback) -> None:
        """Poll every `interval` until cancelled, handing each round's entries (maybe
        none) and failures to on_round. A failed poll does not end it: a gateway
        restarting should not end `logs -f`."""
        while True:
            on_round(*await self.poll_round())
            await asyncio.sleep(self.interval)


# Timestamps goatui can print in UTC and in any local zone (years 1 to 9999, a day in).
_EARLIEST = datetime(1, 1, 2, tzinfo=UTC).timestamp()
_LATEST = datetime(9999, 12, 30, tzinfo=UTC).timestamp()


def entry_time(entry: Mapping[str, Any]) -> float:
    """An entry's RFC 3339 timestamp in seconds since the epoch (now if unreadable),
    held within the years goatui can print."""
    text = entry.get("timestamp")
    if isinstance(text, str) and text:
        try:
            return min(max(datetime.fromisoformat(text).timestamp(), _EARLIEST), _LATEST)
        except (ValueError, OverflowError, OSError):  # unreadable, or year 1 in local time
            pass
    return time.time()


def store_sink(store: LogStore) -> Callable[[list[dict[str, Any]]], None]:
    """A `LogPoller.run` callback that feeds goatui's LogStore."""

    def feed(entries: list[dict[str, Any]]) -> None:
        for entry in entries:
            store.add(
                entry["plugin"],
                entry["level"],
                entry["message"],
                entry["fields"],
                entry_time(entry),
            )

    return feed


def widget_html_from_result(data: bytes) -> str:
    """The HTML of a widget result: `{"html": "..."}` (GoatFlow's convention) or raw HTML."""
    text = data.decode("utf-8", errors="replace")
    stripped = text.lstrip()
    if stripped.startswith("{"):
        try:
            value = json.loads(stripped)
        except (ValueError, RecursionError):
            value = None
        if isinstance(value, dict) and isinstance(value.get("html"), str):
            return str(value["html"])
    elif stripped.startswith("<") or not stripped:
        return text
    start = sanitize_line(clip(text, 80))
    raise RemoteError(
        f'widget result is neither {{"html": ...}} nor HTML; it starts: {start}',
        code="BAD_RESULT",
    )
