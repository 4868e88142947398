"""Named contexts (k9s-style) and choosing the backend: sockets or a gateway.

A context is a table in the config file:

    [contexts.prod]
    gateway = "https://goatflow.example.com"   # GoatFlow's base URL
    token_file = "~/.config/goatui/prod.token"  # mode 0600; else $GOATFLOW_TOKEN
    ca_cert = "/etc/ssl/internal-ca.pem"        # optional: trust only this CA
    insecure = false                            # optional: no TLS verification

    [contexts.local]
    sockets = ["/tmp/goatflow-plugin-analytics.sock"]
    globs = ["/run/goatflow/*.sock"]            # optional
    plugins_dir = "/opt/goatflow/plugins"       # optional

Precedence for the token: --token-file, then the context's token_file, then
$GOATFLOW_TOKEN, then the sign-in `goatui login` stored for that gateway (refreshed as
it expires). A context naming its own token file never falls back to another gateway's
token by accident of the environment. Nothing here imports httpx until a gateway
backend is actually built (the socket CLI stays light).
"""

from __future__ import annotations

import os
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from goatui.core.backends.base import Backend
from goatui.core.backends.sockets.discovery import Sources
from goatui.core.config import Check, Config, check_table, flag, strings, text
from goatui.core.errors import UsageError
from goatui.core.limits import DEFAULT_CALL_TIMEOUT_S, DEFAULT_MAX_MESSAGE_MB

if TYPE_CHECKING:
    from goatui.core.backends.fleet import FleetBackend
    from goatui.core.backends.gateway.rest import GatewayBackend

URL_ENV = "GOATFLOW_URL"  # the same as gateway.rest.URL_ENV, without importing httpx

# A context's keys and their types (the config file's schema, goatui.core.config).
_KEYS: dict[str, Check] = {
    "gateway": text,
    "token_file": text,
    "ca_cert": text,
    "insecure": flag,
    "sockets": strings,
    "globs": strings,
    "plugins_dir": text,
}


@dataclass(frozen=True)
class Context:
    """One [contexts.NAME] table, checked."""

    name: str
    gateway: str = ""
    token_file: str = ""
    ca_cert: str = ""
    insecure: bool = False
    sockets: tuple[str, ...] = ()
    globs: tuple[str, ...] = ()
    plugins_dir: str = ""

    @property
    def kind(self) -> str:
        return "gateway" if self.gateway else "sockets"

    @property
    def where(self) -> str:
        """What the context points at, for a switcher list (never a token)."""
        if self.gateway:
            return self.gateway
        return ", ".join((*self.sockets, *self.globs)) or "default sockets"


def _path(value: str, config: Config) -> str:
    """~ expanded; a relative path is relative to the config file's directory."""
    path = Path(value).expanduser()
    if not path.is_absolute() and config.path is not None:
        path = config.path.parent / path
    return str(path)


def _parse(name: str, table: Any, config: Config) -> Context:
    where = f"config {config.path}: [contexts.{name}]"
    if not isinstance(table, dict):
        raise UsageError(f"{where} must be a table")
    table = check_table(table, _KEYS, where)
    gateway = table.get("gateway", "")
    if gateway and (table.get("sockets") or table.get("globs")):
        raise UsageError(f"{where}: give either gateway or sockets, not both")
    if not gateway and not (table.get("sockets") or table.get("globs")):
        raise UsageError(f"{where}: needs gateway = URL, or sockets = [paths]")
    return Context(
        name=name,
        gateway=gateway,
        token_file=_path(table["token_file"], config) if table.get("token_file") else "",
        ca_cert=_path(table["ca_cert"], config) if table.get("ca_cert") else "",
        insecure=bool(table.get("insecure", False)),
        sockets=tuple(table.get("sockets", ())),
        globs=tuple(table.get("globs", ())),
        plugins_dir=_path(table["plugins_dir"], config) if table.get("plugins_dir") else "",
    )


def available_contexts(config: Config) -> list[Context]:
    """Every context in the config, by name. Raises UsageError for a broken table."""
    return [_parse(name, config.contexts[name], config) for name in sorted(config.contexts)]


def get_context(config: Config, name: str) -> Context:
    """The named context; UsageError (exit 2) listing the known ones otherwise."""
    if name not in config.contexts:
        known = ", ".join(sorted(config.contexts)) or "none"
        raise UsageError(
            f"unknown context {name!r} (known: {known})",
            f"contexts are [contexts.NAME] tables in {config.path}",
        )
    return _parse(name, config.contexts[name], config)


def make_gateway(
    url: str,
    *,
    token_file: str | None = None,
    ca_cert: str | None = None,
    insecure: bool = False,
    timeout: float = DEFAULT_CALL_TIMEOUT_S,
    max_message_mb: int = DEFAULT_MAX_MESSAGE_MB,
    read_only: bool = False,
    environ: Mapping[str, str] | None = None,
    context: str | None = None,
) -> GatewayBackend:
    """A GatewayBackend with its token from token_file or $GOATFLOW_TOKEN, else the
    stored sign-in for its URL. `context` names the context it was built from (for
    hints such as `goatui login --context NAME`)."""
    from goatui.core.backends.gateway.auth import explicit_credentials
    from goatui.core.backends.gateway.rest import GatewayBackend
    from goatui.core.backends.gateway.store import SignInStore

    return GatewayBackend(
        url,
        credentials=explicit_credentials(token_file, environ),
        store=SignInStore(),
        context=context,
        ca_cert=ca_cert,
        insecure=insecure,
        timeout=timeout,
        max_message_mb=max_message_mb,
        read_only=read_only,
    )


def backend_for_context(
    config: Config,
    name: str,
    *,
    token_file: str | None = None,
    ca_cert: str | None = None,
    insecure: bool = False,
    timeout: float | None = None,
    max_message_mb: int | None = None,
    read_only: bool | None = None,
    environ: Mapping[str, str] | None = None,
) -> Backend:
    """A new backend for the named context (the console switches by closing the old one).

    Keyword arguments are the command line's overrides; None means the context's or the
    config's own value. Pass token_file only for the context the command line named: a
    token file given for one gateway must not follow the operator to another.
    """
    context = get_context(config, name)
    mb = max_message_mb or config.max_message_mb
    if context.gateway:
        return make_gateway(
            context.gateway,
            token_file=token_file or context.token_file or None,
            ca_cert=ca_cert or context.ca_cert or None,
            insecure=insecure or context.insecure,
            timeout=timeout if timeout is not None else config.timeout,
            max_message_mb=mb,
            read_only=config.read_only if read_only is None else read_only,
            environ=environ,
            context=name,
        )
    # An explicit socket list: the environment's sockets belong to no context.
    backend = sockets_backend(
        context.sockets,
        context.globs,
        context.plugins_dir or config.plugins_dir,
        max_message_mb=mb,
        environ={},
    )
    backend.label = f"sockets ({name})"
    return backend


def sockets_backend(
    sockets: Sequence[str] = (),
    globs: Sequence[str] = (),
    plugins_dir: str | None = None,
    *,
    max_message_mb: int = DEFAULT_MAX_MESSAGE_MB,
    environ: dict[str, str] | None = None,
) -> Backend:
    """Plugins on Unix sockets: these paths, these globs, $GOATFLOW_PLUGIN_SOCKET, else
    the default glob (`Sources.resolve`); manifests from plugins_dir."""
    from goatui.core.backends.sockets.backend import SocketBackend

    sources = Sources.resolve(
        sockets=sockets, globs=globs, plugins_dir=plugins_dir, environ=environ
    )
    return SocketBackend(sources, max_message_mb=max_message_mb)


def wasm_sources(files: Sequence[str], plugins_dir: str | None) -> bool:
    """Whether there are WASM modules to run: files given, or *.wasm in the plugins dir."""
    if files:
        return True
    if not plugins_dir:
        return False
    return any(path.is_file() for path in Path(plugins_dir).expanduser().rglob("*.wasm"))


def with_wasm(
    backend: Backend | None,
    files: Sequence[str],
    plugins_dir: str | None,
    config: Config,
    *,
    allow_http: bool = False,
    timeout: float = DEFAULT_CALL_TIMEOUT_S,
    max_message_mb: int = DEFAULT_MAX_MESSAGE_MB,
) -> Backend | None:
    """The WASM modules goatui runs itself, beside local plugin sockets (`backend`) or
    alone (None); `backend` unchanged when there are none. wasmtime is imported only
    when there are."""
    if not wasm_sources(files, plugins_dir):
        return backend
    from goatui.core.backends.wasm.backend import WasmBackend

    wasm = WasmBackend(
        files,
        plugins_dir,
        memory_mb=config.wasm_memory_mb,
        max_message_mb=backend.max_message_mb if backend is not None else max_message_mb,
        allow_http=allow_http or config.allow_http,
        language=config.language or "",
        load_timeout=timeout,
    )
    if backend is None:
        return wasm
    from goatui.core.backends.local import LocalBackend

    return LocalBackend({"sockets": backend, "wasm": wasm})


def launched_only_backend(
    plugins_dir: str, *, max_message_mb: int = DEFAULT_MAX_MESSAGE_MB
) -> Backend:
    """Sockets of the plugins goatui launches from plugins_dir, and nothing else (`demo`)."""
    from goatui.core.backends.sockets.backend import SocketBackend

    sources = Sources(sockets=[], globs=[], plugins_dir=plugins_dir)
    return SocketBackend(sources, max_message_mb=max_message_mb)


def select_backend(
    config: Config,
    *,
    gateway: str | None = None,
    context: str | None = None,
    sockets: Sequence[str] = (),
    token_file: str | None = None,
    ca_cert: str | None = None,
    insecure: bool = False,
    timeout: float = DEFAULT_CALL_TIMEOUT_S,
    max_message_mb: int = DEFAULT_MAX_MESSAGE_MB,
    read_only: bool = False,
    environ: Mapping[str, str] | None = None,
) -> Backend | None:
    """The backend the command line names: --gateway, --context, else $GOATFLOW_URL
    unless --socket was given. None means plugin sockets as usual."""
    env = os.environ if environ is None else environ
    if gateway and context:
        raise UsageError("--gateway and --context exclude each other", "give one")
    if sockets and (gateway or context):
        flag = "--gateway" if gateway else "--context"
        raise UsageError(f"--socket and {flag} exclude each other", "give one")
    if context:
        return backend_for_context(
            config,
            context,
            token_file=token_file,
            ca_cert=ca_cert,
            insecure=insecure,
            timeout=timeout,
            max_message_mb=max_message_mb,
            read_only=read_only,
            environ=env,
        )
    url = gateway or ("" if sockets else env.get(URL_ENV, "").strip())
    if not url:
        return None
    return make_gateway(
        url,
        token_file=token_file,
        ca_cert=ca_cert,
        insecure=insecure,
        timeout=timeout,
        max_message_mb=max_message_mb,
        read_only=read_only,
        environ=env,
    )


def fleet_for_contexts(
    config: Config,
    names: Sequence[str],
    *,
    ca_cert: str | None = None,
    insecure: bool = False,
    timeout: float | None = None,
    max_message_mb: int | None = None,
    read_only: bool | None = None,
    environ: Mapping[str, str] | None = None,
) -> FleetBackend:
    """A fleet of the named contexts (all of the config's for `--fleet`).

    No --token-file here: one file cannot be the token of several gateways; each
    gateway context names its own `token_file` (else $GOATFLOW_TOKEN applies).
    """
    if not names:
        raise UsageError("no contexts to make a fleet of", "add [contexts.NAME] tables")
    repeated = sorted(n for n, count in Counter(names).items() if count > 1)
    if repeated:
        raise UsageError(f"context {repeated[0]!r} is named twice")
    members = {
        name: backend_for_context(
            config,
            name,
            ca_cert=ca_cert,
            insecure=insecure,
            timeout=timeout,
            max_message_mb=max_message_mb,
            read_only=read_only,
            environ=environ,
        )
        for name in names
    }
    from goatui.core.backends.fleet import FleetBackend

    return FleetBackend(members)
