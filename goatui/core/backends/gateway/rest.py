"""GoatFlow's plugin REST API (GATEWAY_API.md) behind the `Backend` interface.

Where plugin sockets are out of reach (another host, a container), goatui talks to
GoatFlow itself at `<url>/api/v1`. One `httpx.AsyncClient` per event loop, created on
first use; every request has a total deadline as well as httpx's own timeouts. Tokens
are in `gateway.auth`, kept usable (refreshed, stored, signed out) by `gateway.signin`;
the log buffer is followed in `gateway.logpoll`.

GoatFlow as it really runs (GATEWAY_API.md, "How the real server behaves"): its list
comes in no stable order (sorted here), lazily loaded plugins are listed `loaded:
false` until a call loads them (under the name their registration gives, which may
differ), and widgets of disabled or not loaded plugins answer 404.
"""

from __future__ import annotations

import asyncio
import copy
import ipaddress
import json
import re
import ssl
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlsplit

import httpx

from goatui.core.backends.base import Backend, Capabilities, LogSource, Origin, SignInStatus
from goatui.core.backends.gateway.auth import TOKEN_ENV, BearerAuth, Credentials
from goatui.core.backends.gateway.logpoll import GatewayLogPoller, LogPage, normalise_entry
from goatui.core.backends.gateway.signin import TokenKeeper
from goatui.core.backends.gateway.store import SignInStore
from goatui.core.errors import (
    GoatError,
    NotFound,
    RemoteError,
    ResultTooLarge,
    TimedOut,
    Unreachable,
    UsageError,
    not_loaded_error,
)
from goatui.core.flight import SingleFlight
from goatui.core.jsonstream import NoSuchArray, array_items
from goatui.core.limits import (
    DEFAULT_CALL_TIMEOUT_S,
    DEFAULT_MAX_MESSAGE_MB,
    DEFAULT_PROBE_TIMEOUT_S,
    MiB,
)
from goatui.core.models import CallResult, Health, Manifest, PluginInfo, Probe
from goatui.core.sanitize import clip, sanitize_line

URL_ENV = "GOATFLOW_URL"
API_PREFIX = "/api/v1"
# Probes of N plugins share one GET /plugins answer this young (and one request in flight).
SNAPSHOT_TTL_S = 1.0
# Connecting should never take the whole call deadline: a dead host is known sooner.
CONNECT_TIMEOUT_S = 10.0
_ERROR_TEXT_MAX = 300
# A bundle of every public CA is ~250 KiB.
_CA_CERT_MAX = 4 * 1024 * 1024


# -- the URL -------------------------------------------------------------------------------


def gateway_base(url: str) -> str:
    """GoatFlow's base URL, normalised: scheme://host[:port][/path], no /api/v1.

    Credentials in the URL are refused without echoing it (it may hold a password).
    """
    text = url.strip()
    try:
        text.encode()  # not text: bytes of the environment that are not UTF-8
        if any(c.isspace() or not c.isprintable() for c in text):
            raise ValueError("a space or a control character")  # httpx would raise
        parts = urlsplit(text)
        _ = parts.port  # raises ValueError on a bad port
    except ValueError:
        raise UsageError(
            f"invalid gateway URL {sanitize_line(text)}", "e.g. https://goatflow.example.com"
        ) from None
    if parts.username is not None or parts.password is not None:
        raise UsageError(
            "the gateway URL must not carry credentials",
            f"put the token in ${TOKEN_ENV} or a --token-file instead",
        )
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise UsageError(
            f"invalid gateway URL {sanitize_line(text)}",
            "it needs http:// or https:// and a host, e.g. https://goatflow.example.com",
        )
    if parts.query or parts.fragment:
        raise UsageError(f"the gateway URL {sanitize_line(text)} must not have a query")
    path = parts.path.rstrip("/")
    if path.endswith(API_PREFIX):
        path = path[: -len(API_PREFIX)]
    return f"{parts.scheme}://{parts.netloc}{path}"


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _tls_verify(ca_cert: str | Path | None, insecure: bool) -> ssl.SSLContext | bool:
    if insecure:
        return False
    if not ca_cert:
        return True
    from goatui.core.inputs import read_file

    shown = sanitize_line(str(ca_cert))
    # Read against a limit first: OpenSSL would read `--ca-cert /dev/zero` for ever.
    pem = read_file(ca_cert, limit=_CA_CERT_MAX, what=f"CA certificate {shown}")
    try:
        # Only this CA is trusted: the usual case is a private CA for an internal host.
        return ssl.create_default_context(cadata=pem.decode("ascii", "replace"))
    except (OSError, ssl.SSLError) as exc:
        reason = getattr(exc, "strerror", None) or getattr(exc, "reason", None) or "unreadable"
        raise UsageError(
            f"CA certificate {shown} is not usable ({reason})", "pass a PEM file"
        ) from None


# -- answers -------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Reply:
    status: int
    content_type: str
    # As read: a copy is made only where bytes are needed (a call's result).
    body: bytes | bytearray
    duration_ms: float
    location: str = ""

    @property
    def ok(self) -> bool:
        return 200 <= self.status < 300

    def text(self) -> str:
        return self.body.decode("utf-8", errors="replace")

    def error_text(self) -> str:
        """GoatFlow's `{"error": ...}` (or `message`), else the start of the body."""
        text = self.text().strip()
        try:
            value = json.loads(text) if text.startswith("{") else None
        except (ValueError, RecursionError):
            value = None
        if isinstance(value, dict):
            for key in ("error", "message"):
                if isinstance(value.get(key), str) and value[key]:
                    return clip(str(value[key]), _ERROR_TEXT_MAX)
        return clip(text, _ERROR_TEXT_MAX)


@dataclass(frozen=True, slots=True)
class _Request:
    """What one request sends (sent again as it is after a refresh)."""

    method: str
    path: str
    what: str
    timeout: float | None = None
    params: dict[str, str] | None = None
    body: bytes | None = None
    accept: str = "application/json"


@dataclass(frozen=True, slots=True)
class _Listed:
    """What goatui keeps of one entry of GET /plugins (not the entry's dicts)."""

    name: str
    version: str
    description: str
    health: Health
    # None for a plugin not loaded yet: it has no routes, widgets or jobs to offer.
    manifest: Manifest | None


@dataclass(frozen=True)
class _Snapshot:
    """One GET /plugins answer: entries by name, in order, and its round trip."""

    plugins: dict[str, _Listed]
    latency_ms: float


def gateway_health(entry: Mapping[str, Any]) -> Health:
    """ENABLED, DISABLED or NOT_LOADED from a plugin entry of GET /plugins."""
    if entry.get("loaded", True) is False:
        return Health.NOT_LOADED
    return Health.ENABLED if entry.get("enabled") is True else Health.DISABLED


def _listed(entry: Mapping[str, Any], text: str) -> _Listed:
    health = gateway_health(entry)
    return _Listed(
        name=entry["name"],
        version=_text(entry, "version"),
        description=_text(entry, "description"),
        health=health,
        # Routes, widgets and jobs come with the list, as the entry's own text, parsed
        # when first read: `ls` of thousands of plugins reads none of them.
        manifest=None if health is Health.NOT_LOADED else Manifest.deferred(text, "gateway"),
    )


# -- the backend ---------------------------------------------------------------------------


class GatewayBackend(Backend):
    """Plugins reached through GoatFlow's REST API."""

    capabilities = Capabilities(logs=LogSource.BUFFER, enable_disable=True, probes_together=True)

    def __init__(
        self,
        url: str,
        *,
        token: str | None = None,
        ca_cert: str | Path | None = None,
        insecure: bool = False,
        timeout: float = DEFAULT_CALL_TIMEOUT_S,
        probe_timeout: float = DEFAULT_PROBE_TIMEOUT_S,
        max_message_mb: int = DEFAULT_MAX_MESSAGE_MB,
        read_only: bool = False,
        snapshot_ttl: float = SNAPSHOT_TTL_S,
        credentials: Credentials | None = None,
        store: SignInStore | None = None,
        context: str | None = None,
    ) -> None:
        """`token` or `credentials`: an explicit token; with neither, the sign-in
        `store` keeps for this gateway (if a store is given)."""
        self.base_url = gateway_base(url)
        self.api_url = self.base_url + API_PREFIX
        self.label = self.base_url
        self.timeout = timeout
        self.probe_timeout = probe_timeout
        self.max_message_mb = max_message_mb
        self.read_only = read_only
        self.snapshot_ttl = snapshot_ttl
        if credentials is None and token:
            credentials = Credentials.explicit(token, "the token")
        store_error = None
        if credentials is None and store is not None:
            try:
                credentials = store.load(self.base_url)
            except UsageError as exc:
                store_error = exc  # said by every request; `goatui logout` still works
        self._keeper = TokenKeeper(
            self.base_url, credentials, store=store, context=context, store_error=store_error
        )
        self._verify = _tls_verify(ca_cert, insecure)
        self.warnings: list[str] = []
        host = urlsplit(self.base_url).hostname or ""
        if insecure:
            self.warnings.append(
                "TLS verification is off (--insecure): the gateway's identity is not "
                "checked, and whoever is in between can read the token and the answers"
            )
        elif self.base_url.startswith("http://") and credentials and not _is_loopback(host):
            self.warnings.append(
                f"the token goes unencrypted over http to {host}; use https if you can"
            )
        self._client: httpx.AsyncClient | None = None
        self._client_loop: asyncio.AbstractEventLoop | None = None
        self._snapshot: _Snapshot | GoatError | None = None
        self._snapshot_at = 0.0
        self._listing: SingleFlight[_Snapshot] = SingleFlight()
        self._listed: dict[str, _Listed] = {}  # the last list that came
        # A lazy plugin that loaded under another name: old name -> new name, and the
        # key (the first name's target) each renamed plugin keeps (PluginInfo.key).
        self._renamed: dict[str, str] = {}
        self._keys: dict[str, str] = {}
        self._last_call_ms: dict[str, float] = {}

    def __repr__(self) -> str:
        return f"GatewayBackend({self.base_url!r}, token={'set' if self.has_token else 'none'})"

    @property
    def has_token(self) -> bool:
        return self._keeper.credentials is not None

    # -- signing in --------------------------------------------------------------------

    def sign_in_status(self) -> list[SignInStatus]:
        return [self._keeper.status()]

    async def sign_in(
        self, login: str, password: str, *, gateway: str | None = None
    ) -> SignInStatus:
        self._check_gateway(gateway)
        status = await self._keeper.sign_in(self._post, login, password)
        self._forget_snapshot()  # listed again with the new token
        return status

    def sign_out(self, *, gateway: str | None = None) -> bool:
        self._check_gateway(gateway)
        self._forget_snapshot()
        return self._keeper.sign_out()

    def _check_gateway(self, gateway: str | None) -> None:
        if gateway is not None and gateway != self.base_url:
            raise UsageError(f"this backend is {self.base_url}, not {sanitize_line(gateway)}")

    def origin(self, plugin: PluginInfo | None) -> Origin:
        return Origin(gateway=self.base_url)

    def log_poller(
        self, *, plugin: str | None = None, min_level: str | None = None
    ) -> GatewayLogPoller:
        return GatewayLogPoller(self, plugin=plugin, min_level=min_level)

    # -- HTTP --------------------------------------------------------------------------

    def _http(self) -> httpx.AsyncClient:
        loop = asyncio.get_running_loop()
        if self._client is None or self._client_loop is not loop:
            # A client belongs to the loop it was made in (the CLI and the console each
            # run their own); one left in another loop is simply dropped.
            self._client = httpx.AsyncClient(
                verify=self._verify,
                follow_redirects=False,
                headers={"User-Agent": "goatui"},
            )
            self._client_loop = loop
        return self._client

    async def _send(
        self,
        method: str,
        path: str,
        *,
        what: str,
        timeout: float | None = None,
        params: dict[str, str] | None = None,
        body: bytes | None = None,
        accept: str = "application/json",
    ) -> _Reply:
        """One request with the token: refreshed first when it is about to expire, and
        sent again once after a 401 when a refresh (or a newer stored sign-in) gives a
        new one. Signed out, nothing is sent (the keeper raises why)."""
        keeper = self._keeper
        generation = await keeper.ready(self._post, what)
        request = _Request(method, path, what, timeout, params, body, accept)
        reply = await self._exchange(request, keeper.auth)
        if reply.status == 401:
            if await keeper.retry_after_401(self._post, generation, reply.error_text()):
                reply = await self._exchange(request, keeper.auth)
            if reply.status == 401 and not keeper.problem:
                keeper.problem = keeper.refused_reason(reply.error_text())
        elif reply.status == 403 and await keeper.retry_after_403():
            reply = await self._exchange(request, keeper.auth)  # a newer sign-in, say admin
        return reply

    async def _post(self, path: str, payload: dict[str, str], what: str) -> tuple[int, Any, str]:
        """A JSON POST without a bearer token (sign-in and refresh): (status, the JSON
        answer or None, GoatFlow's error text). The payload holds secrets: it goes in
        the body only, and no error built here quotes it."""
        request = _Request("POST", path, what, body=json.dumps(payload).encode())
        reply = await self._exchange(request, auth=None)
        try:
            value = json.loads(reply.body) if reply.body.strip() else None
        except (ValueError, RecursionError):
            value = None
        return reply.status, value, reply.error_text()

    async def _exchange(self, sent: _Request, auth: BearerAuth | None) -> _Reply:
        """One request with a total deadline; transport failures become GoatErrors.
        auth=None sends no Authorization header (sign-in, refresh)."""
        what = sent.what
        limit = self.timeout if sent.timeout is None else sent.timeout
        headers = {"Accept": sent.accept}
        if sent.body is not None:
            headers["Content-Type"] = "application/json"
        client = self._http()
        started = time.perf_counter()
        try:
            async with asyncio.timeout(limit):
                request = client.build_request(
                    sent.method,
                    self.api_url + sent.path,
                    params=sent.params,
                    content=sent.body,
                    headers=headers,
                    timeout=httpx.Timeout(limit, connect=min(limit, CONNECT_TIMEOUT_S)),
                )
                response = await client.send(request, stream=True, auth=auth)
                try:
                    data = await self._read_body(response, what)
                finally:
                    await response.aclose()
        except (TimeoutError, httpx.TimeoutException):
            raise TimedOut(
                f"{what}: no answer from the gateway within {limit:g}s",
                "raise --timeout, or check the gateway",
            ) from None
        except httpx.ConnectError as exc:
            raise self._connect_error(exc, what) from None
        except httpx.TransportError as exc:
            raise Unreachable(
                f"{what}: the connection to the gateway failed ({_reason(exc)})",
                "check the gateway",
            ) from None
        return _Reply(
            status=response.status_code,
            content_type=response.headers.get("content-type", ""),
            body=data,
            duration_ms=(time.perf_counter() - started) * 1000,
            location=response.headers.get("location", ""),
        )

    async def _read_body(self, response: httpx.Response, what: str) -> bytearray:
        """The body, refused past --max-message-mb as it streams in (so a huge answer
        cannot eat memory: at most the limit is ever held)."""
        limit = self.max_message_mb * MiB
        too_large = ResultTooLarge(
            f"{what}: the answer is larger than the {self.max_message_mb} MiB limit",
            code="TOO_LARGE",
            hint="raise it with --max-message-mb",
        )
        declared = response.headers.get("content-length", "")
        if declared.isdigit() and int(declared) > limit:
            raise too_large
        # One buffer grown in place: a list of chunks joined at the end held two copies.
        body = bytearray()
        async for chunk in response.aiter_bytes():
            if len(body) + len(chunk) > limit:
                raise too_large
            body += chunk
        return body

    def _connect_error(self, exc: httpx.ConnectError, what: str) -> GoatError:
        reason = _reason(exc)
        if "CERTIFICATE_VERIFY_FAILED" in reason or "certificate verify failed" in reason:
            return Unreachable(
                f"{what}: the gateway's TLS certificate is not trusted ({reason})",
                "pass its CA with --ca-cert FILE (or --insecure, knowingly)",
            )
        if "SSL" in reason or "TLS" in reason:
            return Unreachable(f"{what}: TLS with the gateway failed ({reason})")
        return Unreachable(
            f"{what}: cannot connect to the gateway at {self.base_url} ({reason})",
            "is GoatFlow running there? check --gateway",
        )

    def _error(self, reply: _Reply, what: str) -> GoatError:
        """A non-2xx answer as the error an operator can act on."""
        status = reply.status
        message = reply.error_text()
        if status == 401:
            if not self._keeper.problem:
                self._keeper.problem = self._keeper.refused_reason(message)
            return self._keeper.signed_out(what)
        if status == 403 and "admin" in message.lower():
            return self._keeper.admin_refused(what)
        if 300 <= status < 400:
            where = sanitize_line(clip(reply.location, 200)) or "elsewhere"
            return RemoteError(
                f"{what}: the gateway redirected to {where}",
                code=f"HTTP_{status}",
                hint="use that address as --gateway",
            )
        if status == 503:
            return RemoteError(f"{what}: gateway unavailable: {message}", code="UNAVAILABLE")
        if status >= 500:
            return RemoteError(
                f"{what}: gateway error (HTTP {status}): {message or 'no details'}",
                code=f"HTTP_{status}",
            )
        if status == 400:
            return RemoteError(f"{what} failed: {message}", code="BAD_REQUEST")
        return RemoteError(f"{what}: {message or f'HTTP {status}'}", code=f"HTTP_{status}")

    @staticmethod
    def _json(reply: _Reply, what: str) -> Any:
        try:
            return json.loads(reply.body)
        except (ValueError, RecursionError):
            start = sanitize_line(clip(reply.text(), 60))
            raise RemoteError(
                f"{what}: the gateway's answer is not valid JSON (it starts: {start})",
                code="BAD_RESPONSE",
            ) from None

    # -- the plugin list (shared by probes) --------------------------------------------

    async def _fetch_snapshot(self) -> _Snapshot:
        what = "listing plugins"
        reply = await self._send("GET", "/plugins", what=what)
        if not reply.ok:
            raise self._error(reply, what)
        latency_ms = reply.duration_ms
        text = reply.body.decode("utf-8", errors="replace")
        del reply  # the bytes go: only the text is held while it is read
        by_name: dict[str, _Listed] = {}
        try:
            # Entry by entry: what is kept of each is small (goatui.core.jsonstream).
            for entry, start, end in array_items(text, "plugins"):
                if isinstance(entry, dict) and isinstance(entry.get("name"), str):
                    name = entry["name"]
                    kept = by_name.get(name)
                    # A name listed twice: the loaded entry wins over a lazy placeholder.
                    if name and (kept is None or kept.health is Health.NOT_LOADED):
                        listed = _listed(entry, text[start:end])
                        if kept is None or listed.health is not Health.NOT_LOADED:
                            by_name[name] = listed
        except NoSuchArray:
            raise RemoteError(
                f'{what}: the answer has no "plugins" list', code="BAD_RESPONSE"
            ) from None
        except (ValueError, RecursionError):
            raise RemoteError(
                f"{what}: the gateway's answer is not valid JSON (it starts: "
                f"{sanitize_line(text[:60])})",
                code="BAD_RESPONSE",
            ) from None
        # GoatFlow lists from a Go map, in no stable order: goatui's is by name.
        return _Snapshot(dict(sorted(by_name.items())), latency_ms)

    async def _plugins(self, max_age: float) -> _Snapshot:
        """GET /plugins, at most one in flight (shared by every caller meanwhile),
        reused while younger than max_age."""
        fresh = time.monotonic() - self._snapshot_at < max_age
        if self._snapshot is not None and fresh:
            if isinstance(self._snapshot, GoatError):
                # Raised afresh for each caller: one exception raised by thousands of
                # probes would grow a traceback holding all their frames.
                raise copy.copy(self._snapshot).with_traceback(None)
            return self._snapshot
        return await self._listing.run(self._fetch_and_keep)

    async def _fetch_and_keep(self) -> _Snapshot:
        try:
            snapshot = await self._fetch_snapshot()
        except GoatError as exc:
            self._snapshot, self._snapshot_at = exc, time.monotonic()
            raise
        self._follow_renames(self._listed, snapshot.plugins)
        self._listed = snapshot.plugins
        self._snapshot, self._snapshot_at = snapshot, time.monotonic()
        return snapshot

    def _follow_renames(self, before: dict[str, _Listed], after: dict[str, _Listed]) -> None:
        """A lazy plugin that loaded under another name than its file's keeps its key.

        GoatFlow does not say which placeholder became which plugin: when exactly one
        placeholder went and one loaded plugin came since the last list, they are the
        same plugin. (Several at once, say after GET /plugins/widgets loaded them all,
        stay apart: the placeholders go, the plugins come.)
        """
        if not before:
            return
        lazy = Health.NOT_LOADED
        went = [n for n, e in before.items() if e.health is lazy and n not in after]
        if not went:
            return  # the usual case, in linear time: no placeholder went
        came = [n for n, e in after.items() if e.health is not lazy and n not in before]
        if len(went) == 1 and len(came) == 1:
            old, new = went[0], came[0]
            self._renamed = {k: new if v == old else v for k, v in self._renamed.items()}
            self._renamed[old] = new
            self._keys[new] = self._keys.pop(old, self._target(old))

    def _target(self, name: str) -> str:
        return f"{self.api_url}/plugins/{_seg(name)}"

    def current_name(self, name: str) -> str:
        """The name a plugin is listed under now (a lazy one may have loaded as another)."""
        return self._renamed.get(name, name) if name not in self._listed else name

    def _forget_snapshot(self) -> None:
        self._snapshot = None

    async def _known(self) -> dict[str, _Listed] | None:
        """The plugin list to tell a user's typo from a gateway failure; None if unknown."""
        try:
            return (await self._plugins(self.snapshot_ttl)).plugins
        except GoatError:
            return None

    async def _not_found(self, plugin: str, reply: _Reply, what: str) -> GoatError:
        """A 404: NotFound (exit 2) when the plugin is not in the list, else the gateway's."""
        known = await self._known()
        if known is not None and plugin not in known:
            names = ", ".join(sorted(known)) or "none"
            return NotFound(
                f"unknown plugin {plugin!r} on the gateway (known: {names})", "see `goatui ls`"
            )
        return RemoteError(f"{what}: {reply.error_text() or 'not found'}", code="NOT_FOUND")

    # -- Backend -----------------------------------------------------------------------

    async def list_plugins(self) -> list[PluginInfo]:
        snapshot = await self._plugins(max_age=0.0)
        prefix = f"{self.api_url}/plugins/"
        keys = self._keys
        return [
            PluginInfo(
                name=name,
                target=prefix + _seg(name),
                version=listed.version,
                description=listed.description,
                manifest=listed.manifest,
                loaded=listed.health is not Health.NOT_LOADED,
                key=keys.get(name, "") if keys else "",
            )
            for name, listed in snapshot.plugins.items()
        ]

    async def probe(self, plugin: PluginInfo) -> Probe:
        """The plugin's state in GET /plugins; latency is that request's round trip."""
        return (await self.probe_all([plugin]))[0]

    async def probe_all(self, plugins: Sequence[PluginInfo]) -> list[Probe]:
        """Every plugin's state from one GET /plugins (shared, and reused while young)."""
        try:
            snapshot = await asyncio.wait_for(
                self._plugins(self.snapshot_ttl), timeout=self.probe_timeout
            )
        except TimeoutError:
            failed = Probe(
                Health.UNREACHABLE,
                None,
                f"no answer from the gateway within {self.probe_timeout:g}s",
            )
            return [failed] * len(plugins)
        except Unreachable as exc:
            return [Probe(Health.UNREACHABLE, None, exc.line())] * len(plugins)
        except GoatError as exc:
            # The gateway answered, but not with the list (401, 5xx…): state unknown.
            # Signed out, every row would repeat the same long line: sign_in_status()
            # has the why, said once where it is shown.
            line = "signed out of the gateway" if self._keeper.problem else exc.line()
            return [Probe(Health.UNKNOWN, None, line)] * len(plugins)
        latency = snapshot.latency_ms
        # One Probe per state: thousands of plugins share a handful of them.
        states = {health: Probe(health, latency, source=LIST_SOURCE) for health in _LISTED_STATES}
        gone = Probe(Health.UNREACHABLE, latency, "no longer listed by the gateway")
        listed = snapshot.plugins
        probes = []
        for plugin in plugins:
            entry = listed.get(plugin.name)
            if entry is None and self._renamed:  # a lazy plugin loaded as another name
                entry = listed.get(self.current_name(plugin.name))
            probes.append(gone if entry is None else states[entry.health])
        return probes

    def last_call_ms(self, plugin: str) -> float | None:
        """How long the last call to this plugin took (round trip through the gateway)."""
        return self._last_call_ms.get(plugin)

    async def call(
        self, plugin: str, function: str, args: bytes, timeout: float = DEFAULT_CALL_TIMEOUT_S
    ) -> CallResult:
        what = f"call {function}"
        plugin = self.current_name(plugin)
        listed = self._listed.get(plugin)
        lazy = listed is not None and listed.health is Health.NOT_LOADED
        path = f"/plugins/{_seg(plugin)}/call/{_seg(function)}"
        reply = await self._send("POST", path, what=what, timeout=timeout, body=args)
        self._last_call_ms[plugin] = reply.duration_ms
        if lazy:
            self._forget_snapshot()  # the call loaded it: list again to see it as it is
        if reply.ok:
            return CallResult(
                data=bytes(reply.body),
                duration_ms=reply.duration_ms,
                content_type=reply.content_type,
            )
        if reply.status == 404:
            raise await self._not_found(plugin, reply, what)
        if reply.status == 403 and "admin" not in reply.error_text().lower():
            raise RemoteError(
                f"{what}: plugin {plugin!r} is disabled on the gateway",
                code="DISABLED",
                hint=f"an admin can enable it (goatui enable {plugin})",
            )
        raise self._error(reply, what)

    async def widget_html(
        self, plugin: str, handler: str, widget_id: str, timeout: float = DEFAULT_CALL_TIMEOUT_S
    ) -> tuple[str, float]:
        """GET /plugins/:name/widgets/:id (text/html); the handler is GoatFlow's business."""
        what = f"widget {widget_id}"
        plugin = self.current_name(plugin)
        path = f"/plugins/{_seg(plugin)}/widgets/{_seg(widget_id)}"
        reply = await self._send("GET", path, what=what, timeout=timeout, accept="text/html")
        self._last_call_ms[plugin] = reply.duration_ms
        if reply.ok:
            return reply.text(), reply.duration_ms
        if reply.status == 404:
            # GoatFlow answers "Plugin not found" for a plugin it hides (disabled) or has
            # not loaded yet: the list says which.
            known = await self._known()
            entry = known.get(plugin) if known is not None else None
            if entry is not None and entry.health is Health.NOT_LOADED:
                raise not_loaded_error(plugin, f"{what} of {plugin}")
            if entry is not None and entry.health is Health.DISABLED:
                raise RemoteError(
                    f"{what} of {plugin}: the plugin is disabled on the gateway",
                    code="DISABLED",
                    hint=f"an admin can enable it (goatui enable {plugin})",
                )
            manifest = entry.manifest if entry is not None else None
            if manifest is not None:
                ids = [w.get("id") for w in manifest.widgets if isinstance(w.get("id"), str)]
                if widget_id not in ids:
                    raise NotFound(
                        f"plugin {plugin!r} has no widget {widget_id!r} "
                        f"(its widgets: {', '.join(map(str, ids)) or 'none'})"
                    )
            raise await self._not_found(plugin, reply, what)
        if reply.status == 403 and "admin" not in reply.error_text().lower():
            raise RemoteError(f"{what}: plugin {plugin!r} is disabled", code="DISABLED")
        raise self._error(reply, what)

    async def list_widgets(self, location: str = "dashboard") -> list[dict[str, Any]]:
        """GET /plugins/widgets?location=L: {id, title, plugin_name, size, refreshable, refresh_sec}."""
        what = "listing widgets"
        reply = await self._send(
            "GET", "/plugins/widgets", what=what, params={"location": location}
        )
        if not reply.ok:
            raise self._error(reply, what)
        value = self._json(reply, what)
        widgets = value.get("widgets") if isinstance(value, dict) else None
        if not isinstance(widgets, list):
            raise RemoteError(f'{what}: the answer has no "widgets" list', code="BAD_RESPONSE")
        return [w for w in widgets if isinstance(w, dict)]

    async def set_enabled(self, plugin: str, enabled: bool) -> str:
        """POST /plugins/:name/enable|disable (admin). Returns GoatFlow's new status."""
        verb = "enable" if enabled else "disable"
        if self.read_only:
            raise UsageError(f"read-only: refusing to {verb} {plugin!r}", "drop --read-only")
        what = f"{verb} {plugin}"
        reply = await self._send("POST", f"/plugins/{_seg(plugin)}/{verb}", what=what)
        if reply.status == 404:
            raise await self._not_found(plugin, reply, what)
        if not reply.ok:
            raise self._error(reply, what)
        self._forget_snapshot()
        value = self._json(reply, what)
        status = value.get("status") if isinstance(value, dict) else None
        return status if isinstance(status, str) else f"{verb}d"

    async def fetch_logs(
        self, plugin: str | None = None, level: str | None = None, limit: int | None = None
    ) -> LogPage:
        """GET /plugins/logs (admin), one filter as GoatFlow applies it, newest first."""
        what = "reading plugin logs"
        params: dict[str, str] = {}
        if plugin:
            params["plugin"] = plugin
        elif level:
            params["level"] = level
        if limit:
            params["limit"] = str(limit)
        reply = await self._send("GET", "/plugins/logs", what=what, params=params)
        if reply.status == 403:
            raise self._keeper.admin_refused("reading the gateway's plugin logs")
        if not reply.ok:
            raise self._error(reply, what)
        value = self._json(reply, what)
        logs = value.get("logs") if isinstance(value, dict) else None
        if not isinstance(logs, list):
            raise RemoteError(f'{what}: the answer has no "logs" list', code="BAD_RESPONSE")
        entries = [normalise_entry(e) for e in logs if isinstance(e, dict)]
        assert isinstance(value, dict)
        count, total = value.get("count"), value.get("total")
        return LogPage(
            entries,
            count if isinstance(count, int) else len(entries),
            total if isinstance(total, int) else len(entries),
        )

    async def clear_logs(self) -> None:
        """DELETE /plugins/logs (admin): empties GoatFlow's log buffer for everyone."""
        what = "clearing plugin logs"
        if self.read_only:
            raise UsageError("read-only: refusing to clear the gateway's logs", "drop --read-only")
        reply = await self._send("DELETE", "/plugins/logs", what=what)
        if not reply.ok:
            raise self._error(reply, what)

    async def close(self) -> None:
        self._listing.cancel()
        client, self._client = self._client, None
        if client is not None and self._client_loop is asyncio.get_running_loop():
            await client.aclose()
        self._client_loop = None


# quote() leaves names made only of these as they are (most names are): checking first
# saves ~20 µs a name, a third of listing 10,000 plugins before.
_PLAIN_SEGMENT = re.compile(r"[A-Za-z0-9_.~-]+")
# What answered a probe, as the console's detail pane names it.
LIST_SOURCE = "GoatFlow's plugin list"
_LISTED_STATES = (Health.ENABLED, Health.DISABLED, Health.NOT_LOADED)


def _seg(value: str) -> str:
    """A path segment: a name with / or ? must not change which endpoint is asked."""
    if _PLAIN_SEGMENT.fullmatch(value):
        return value
    return quote(value, safe="")


def _text(entry: Mapping[str, Any], key: str) -> str:
    value = entry.get(key)
    return value if isinstance(value, str) else ""


def _reason(exc: BaseException) -> str:
    # httpx errors name at most the URL (the token is only ever in a header).
    text = str(exc) or type(exc).__name__
    return sanitize_line(clip(text, 200))
