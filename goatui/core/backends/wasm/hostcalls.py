"""`gk.host_call`: GoatFlow's host API for WASM plugins, answered by goatui.

Each host call names a function and passes JSON args; the answer is JSON (Go's
encoding/json, so a `[]byte` field is a base64 string). A call that fails answers 0 to
the plugin and is logged as `host_call <fn> failed: <why>` at error level, attributed
to the plugin, as GoatFlow does; the plugin goes on. Every host call is recorded with
its duration for the host-call timeline of the call that made it.

What answers (`HostServices`) is goatui's: the hosting stores the gRPC HostService uses
(cache, SQLite, config), the log stream, the other backends for `plugin_call`. This
module only speaks the ABI's shapes. No wasmtime here; everything runs on the plugin's
own thread, so a service that lives in the event loop is reached through it.
"""

from __future__ import annotations

import base64
import binascii
import json
import os
import re
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from goatui.core.errors import GoatError

#: What a call's scope keeps of its host calls and of its log lines, each.
SCOPE_KEEP = 1000
# What a trace row or log line keeps of a key, query or URL.
_DETAIL_MAX = 200
# What the log stream keeps of a mail's body.
_MAIL_BODY_MAX = 4096
HTTP_REFUSED = "refused: start goatui with --allow-http to let plugins make HTTP requests"


class HostCallFailed(Exception):
    """The host call fails: the plugin gets 0, the log gets `host_call fn failed: why`."""


@dataclass
class CallScope:
    """The call a plugin is serving, which its host calls and log lines belong to."""

    function: str  # "" while the module starts (_start / _initialize / gk_register)
    deadline: float  # time.monotonic()
    timeout: float  # what the deadline was set from, for "timed out after Ns"
    #: What the plugin did while serving this call (the first SCOPE_KEEP of each).
    host_calls: list[HostCallRecord] = field(default_factory=list)
    log_lines: list[LogLine] = field(default_factory=list)

    def __post_init__(self) -> None:
        #: The fields of the call's log lines: one dict for all of them (never changed).
        self.log_fields: Mapping[str, str] = {"call": self.function} if self.function else {}

    def remaining(self) -> float:
        return max(0.0, self.deadline - time.monotonic())

    def keep(self, kept: list[Any], item: Any) -> None:
        # Bounded: a plugin logging a flood must not grow the call's own record.
        if len(kept) < SCOPE_KEEP:
            kept.append(item)


@dataclass(frozen=True, slots=True)
class HostCallRecord:
    plugin: str
    method: str  # the host function: db_query, cache_get, ...
    detail: str
    timestamp: float  # wall clock at its start, as the host trace keeps it
    duration_ms: float
    outcome: str  # "ok", "not found" or "failed: why"

    @property
    def ok(self) -> bool:
        return self.outcome in ("ok", "not found")


@dataclass(slots=True)  # not frozen: made once per gk.log, which is a hot path
class LogLine:
    plugin: str
    level: str
    message: str
    fields: Mapping[str, str]
    timestamp: float


class HostServices(Protocol):
    """What goatui gives a WASM plugin. Called on the plugin's thread; raise
    HostCallFailed (or any GoatError) to fail the host call."""

    @property
    def allow_http(self) -> bool: ...

    @property
    def language(self) -> str:
        """The configured language ("" for none: then LANG's, then en)."""
        ...

    def log(self, line: LogLine) -> None: ...

    def record(self, call: HostCallRecord) -> None: ...

    def db_query(
        self, plugin: str, sql: str, args: list[Any], timeout: float
    ) -> list[dict[str, Any]]: ...

    def db_exec(self, plugin: str, sql: str, args: list[Any], timeout: float) -> int: ...

    def cache_get(self, plugin: str, key: str) -> bytes | None: ...

    def cache_set(self, plugin: str, key: str, value: bytes, ttl: int) -> None: ...

    def config_get(self, plugin: str, key: str) -> str | None: ...

    def plugin_call(
        self, plugin: str, target: str, function: str, args: bytes, timeout: float
    ) -> bytes: ...

    def http_request(
        self,
        plugin: str,
        method: str,
        url: str,
        headers: dict[str, str],
        body: bytes,
        timeout: float,
    ) -> tuple[int, bytes]: ...


# -- the answers ---------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Answer:
    """A host function's answer (JSON, or raw bytes for plugin_call) and whether what
    was asked for exists (the trace says "not found" otherwise)."""

    value: Any
    found: bool = True


Handler = Callable[["HostCalls", dict[str, Any], CallScope], Answer]


class HostCalls:
    """One plugin's host calls: decode the args, ask the services, encode the answer."""

    def __init__(self, services: HostServices, plugin: str) -> None:
        self.services = services
        #: The file's name until gk_register names the plugin.
        self.plugin = plugin
        #: The manifest's `i18n` (translations are the plugin's own).
        self.i18n: Mapping[str, Any] = {}

    def log(self, scope: CallScope, level: str, message: str, **extra: str) -> None:
        fields = {**scope.log_fields, **extra} if extra else scope.log_fields
        line = LogLine(self.plugin, level, message, fields, time.time())
        scope.keep(scope.log_lines, line)
        self.services.log(line)

    def call(self, fn: str, raw_args: bytes, scope: CallScope) -> bytes | None:
        """The JSON answer, or None when the call failed (already logged and recorded)."""
        started_wall = time.time()
        started = time.perf_counter()
        detail = ""
        try:
            args = _object(raw_args)
            detail = describe(fn, args)
            handler = _HANDLERS.get(fn)
            if handler is None:
                raise HostCallFailed(f"unknown host function: {fn}")
            answer = handler(self, args, scope)
            if isinstance(answer.value, bytes):
                data = answer.value
            else:
                data = json.dumps(answer.value, ensure_ascii=False, separators=(",", ":")).encode()
        except Exception as exc:  # a failing host call must never reach the plugin as a trap
            why = _reason(exc)
            self._record(fn, detail, started_wall, started, f"failed: {why}", scope)
            self.log(scope, "error", f"host_call {fn} failed: {why}")
            return None
        outcome = "ok" if answer.found else "not found"
        self._record(fn, detail, started_wall, started, outcome, scope)
        return data

    def _record(
        self,
        fn: str,
        detail: str,
        started_wall: float,
        started: float,
        outcome: str,
        scope: CallScope,
    ) -> None:
        duration = (time.perf_counter() - started) * 1000
        record = HostCallRecord(
            self.plugin, fn, detail[:_DETAIL_MAX], started_wall, duration, outcome
        )
        scope.keep(scope.host_calls, record)
        self.services.record(record)


def describe(fn: str, args: Mapping[str, Any]) -> str:
    """What the trace shows of a host call's request."""

    def part(key: str) -> str:
        value = args.get(key)
        return value if isinstance(value, str) else "" if value is None else json.dumps(value)

    if fn in ("db_query", "db_exec"):
        return part("query")
    if fn == "cache_set":
        return f"{part('key')} ttl={part('ttl') or 0}"
    if fn == "plugin_call":
        return f"{part('plugin')}.{part('function')}"
    if fn == "http_request":
        return f"{(part('method') or 'GET').upper()} {part('url')}"
    if fn == "send_email":
        return f"to {_recipients(args.get('to'))}: {part('subject')}"
    return part("key")


def _reason(exc: Exception) -> str:
    if isinstance(exc, HostCallFailed):
        return str(exc)
    if isinstance(exc, GoatError):
        return exc.message
    return f"host error: {type(exc).__name__}: {exc}"


def _object(raw: bytes) -> dict[str, Any]:
    if not raw:
        return {}
    try:
        value = json.loads(raw)
    except (ValueError, RecursionError) as exc:
        raise HostCallFailed(f"args are not JSON: {exc}") from None
    if not isinstance(value, dict):
        raise HostCallFailed("args must be a JSON object")
    return value


def _text(args: dict[str, Any], key: str, *, required: bool = True) -> str:
    value = args.get(key)
    if value is None and not required:
        return ""
    if not isinstance(value, str) or (required and not value):
        raise HostCallFailed(f'"{key}" must be a non-empty string')
    return value


def _list(args: dict[str, Any], key: str) -> list[Any]:
    value = args.get(key)
    if value is None:
        return []
    if not isinstance(value, list):
        raise HostCallFailed(f'"{key}" must be an array')
    return value


def _bytes(args: dict[str, Any], key: str) -> bytes:
    """A []byte field: base64 (standard alphabet, padded) or null."""
    value = args.get(key)
    if value is None:
        return b""
    if not isinstance(value, str):
        raise HostCallFailed(f'"{key}" must be a base64 string')
    try:
        return base64.b64decode(value.replace("\r", "").replace("\n", ""), validate=True)
    except (binascii.Error, ValueError):
        raise HostCallFailed(f'"{key}" is not valid base64') from None


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def _recipients(to: Any) -> str:
    if isinstance(to, list):
        return ", ".join(str(item) for item in to)
    return "" if to is None else str(to)


def _db_query(host: HostCalls, args: dict[str, Any], scope: CallScope) -> Answer:
    sql = _text(args, "query")
    return Answer(host.services.db_query(host.plugin, sql, _list(args, "args"), scope.remaining()))


def _db_exec(host: HostCalls, args: dict[str, Any], scope: CallScope) -> Answer:
    sql = _text(args, "query")
    affected = host.services.db_exec(host.plugin, sql, _list(args, "args"), scope.remaining())
    return Answer({"affected": affected})


def _cache_get(host: HostCalls, args: dict[str, Any], scope: CallScope) -> Answer:
    value = host.services.cache_get(host.plugin, _text(args, "key"))
    if value is None:
        return Answer({"value": None, "found": False}, found=False)
    return Answer({"value": _b64(value), "found": True})


def _cache_set(host: HostCalls, args: dict[str, Any], scope: CallScope) -> Answer:
    key = _text(args, "key")
    ttl = args.get("ttl")
    if ttl is None:
        ttl = 0
    if isinstance(ttl, bool) or not isinstance(ttl, (int, float)):
        raise HostCallFailed('"ttl" must be a number of seconds')
    host.services.cache_set(host.plugin, key, _bytes(args, "value"), int(ttl))
    return Answer({"ok": True})


def _config_get(host: HostCalls, args: dict[str, Any], scope: CallScope) -> Answer:
    value = host.services.config_get(host.plugin, _text(args, "key"))
    # A missing key is the empty string, a Go map's zero value.
    return Answer({"value": value or ""}, found=value is not None)


def _translate(host: HostCalls, args: dict[str, Any], scope: CallScope) -> Answer:
    key = _text(args, "key")
    return Answer({"value": translate(host.i18n, key, _list(args, "args"), host.services.language)})


def _plugin_call(host: HostCalls, args: dict[str, Any], scope: CallScope) -> Answer:
    target = _text(args, "plugin")
    function = _text(args, "function")
    inner = args.get("args")
    # A json.RawMessage: the value as it is, `{}` when absent.
    payload = b"{}" if inner is None else json.dumps(inner, ensure_ascii=False).encode()
    remaining = scope.remaining()
    return Answer(host.services.plugin_call(host.plugin, target, function, payload, remaining))


def _http_request(host: HostCalls, args: dict[str, Any], scope: CallScope) -> Answer:
    if not host.services.allow_http:
        raise HostCallFailed(HTTP_REFUSED)
    method = _text(args, "method", required=False).upper() or "GET"
    url = _text(args, "url")
    headers = args.get("headers") or {}
    if not isinstance(headers, dict) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in headers.items()
    ):
        raise HostCallFailed('"headers" must be an object of strings')
    status, body = host.services.http_request(
        host.plugin, method, url, headers, _bytes(args, "body"), scope.remaining()
    )
    return Answer({"status": status, "body": _b64(body)})


def _send_email(host: HostCalls, args: dict[str, Any], scope: CallScope) -> Answer:
    recipients = _recipients(args.get("to"))
    subject = _text(args, "subject", required=False)
    # Never sent: the mail is shown in the log stream instead.
    host.log(
        scope,
        "info",
        f"send_email (not sent: goatui never sends mail) to {recipients}: {subject}",
        to=recipients,
        subject=subject,
        html="true" if args.get("html") is True else "false",
        body=_text(args, "body", required=False)[:_MAIL_BODY_MAX],
    )
    return Answer({"ok": True})


_HANDLERS: dict[str, Handler] = {
    "db_query": _db_query,
    "db_exec": _db_exec,
    "cache_get": _cache_get,
    "cache_set": _cache_set,
    "config_get": _config_get,
    "translate": _translate,
    "plugin_call": _plugin_call,
    "http_request": _http_request,
    "send_email": _send_email,
}
HOST_FUNCTIONS = tuple(_HANDLERS)


# -- translations --------------------------------------------------------------------


def languages(configured: str, lang_env: str | None = None) -> list[str]:
    """The languages to try, best first: the configured one, LANG's, then en."""
    wanted: list[str] = []
    env = os.environ.get("LANG", "") if lang_env is None else lang_env
    for tag in (configured, env.split(".", 1)[0].split("@", 1)[0]):
        if not tag or tag in ("C", "POSIX"):
            continue
        full = tag.replace("_", "-")
        for candidate in (full, full.split("-", 1)[0]):
            if candidate not in wanted:
                wanted.append(candidate)
    if "en" not in wanted:
        wanted.append("en")
    return wanted


def translate(
    i18n: Mapping[str, Any],
    key: str,
    args: Sequence[Any],
    configured: str = "",
    lang_env: str | None = None,
) -> str:
    """The plugin's translation of key: configured language, else LANG's, else en, else
    the key itself; args fill Go's verbs (%s, %d, %v...) in order."""
    table = i18n.get("translations") if isinstance(i18n, Mapping) else None
    text = key
    if isinstance(table, Mapping):
        by_lower = {str(lang).lower().replace("_", "-"): v for lang, v in table.items()}
        for lang in languages(configured, lang_env):
            strings = by_lower.get(lang.lower())
            if isinstance(strings, Mapping) and isinstance(strings.get(key), str):
                text = strings[key]
                break
    return go_format(text, args) if args else text


_VERB = re.compile(r"%(%|[-+# 0]*\d*(?:\.\d+)?[vsdqfgtxX])")


def go_format(text: str, args: Sequence[Any]) -> str:
    """Fill printf verbs in order, as Go's fmt.Sprintf would print JSON values."""
    remaining = list(args)

    def fill(match: re.Match[str]) -> str:
        spec = match.group(1)
        if spec == "%":
            return "%"
        if not remaining:
            return f"%!{spec[-1]}(MISSING)"
        value = remaining.pop(0)
        verb = spec[-1]
        if verb == "q":
            return json.dumps(str(value), ensure_ascii=False)
        if verb == "d" and isinstance(value, float) and value.is_integer():
            return str(int(value))
        return _go_value(value)

    out = _VERB.sub(fill, text)
    if remaining:
        out += "%!(EXTRA " + ", ".join(_go_value(v) for v in remaining) + ")"
    return out


def _go_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if value is None:
        return "<nil>"
    if isinstance(value, (dict, list)):
        return json.dumps(value, ensure_ascii=False)
    return str(value)
