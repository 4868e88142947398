"""A stand-in for GoatFlow's plugin REST API (GATEWAY_API.md) on 127.0.0.1, for tests.

A stdlib ThreadingHTTPServer in a background thread on an ephemeral port, answering
with the documented shapes and status codes, and behaving as the real server does
(GATEWAY_API.md, "How the real server behaves"):

* sign-in (`POST /auth/login`) issues real JWTs (HS256, signed here) that expire after
  `token_lifetime` seconds; `POST /auth/refresh` issues new ones without the admin
  claim (GoatFlow's TODO) unless `refresh_keeps_admin`; repeated failed sign-ins are
  rate-limited; personal API tokens (`gf_...`) get 401 "Invalid or expired token";
* lazy plugins: an entry `loaded: false` until a call (or `GET /plugins/widgets`) loads
  it, after which it is listed under the name `loads_as` gives (maybe another);
* `GET /plugins` in a new random order every time; jobs always carry `enabled`;
* widgets of a disabled or not loaded plugin: 404 `Plugin not found: x`;
* plugin failures as results: 200 `{"error": ...}` (an unknown function too), an empty
  body for an empty result.

Everything it does is in `GatewayState`, which a test changes freely (under
`state.lock` when the server may be answering).
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import hmac
import json
import random
import ssl
import subprocess
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

# Distinctive, so a leak is easy to find in any output or file.
ADMIN_TOKEN = "eyJhbGciOi.ADMIN-s3cr3t-7f3c9a.sig"
USER_TOKEN = "eyJhbGciOi.USER-s3cr3t-51b0de.sig"
# A GoatFlow personal API token: refused by every plugin route.
API_TOKEN = "gf_9d2c4e8a1b7f3e6d5c0a9b8e7f6d5c4b"
PASSWORD = "pa55-w0rd-Zq81-secret"
LOG_RING = 1000
# Failed sign-ins before the rest are refused with 429.
LOGIN_ATTEMPTS = 5
_EPOCH = datetime(2025, 1, 1, tzinfo=UTC)

HOSTILE = "\x1b]0;pwned\x07\x1b[31mred\x9b"


def plugin_entry(name: str, *, enabled: bool = True, **extra: Any) -> dict[str, Any]:
    entry: dict[str, Any] = {
        "name": name,
        "version": "1.2.3",
        "description": f"the {name} plugin",
        "author": "tests",
        "license": "Apache-2.0",
        "routes": [{"method": "GET", "path": f"/{name}", "handler": "echo", "middleware": []}],
        "widgets": [
            {
                "id": "summary",
                "title": "Summary",
                "handler": "summary_widget",
                "location": "dashboard",
                "size": "medium",
                "refreshable": True,
                "refresh_sec": 30,
            }
        ],
        "jobs": [{"id": "nightly", "schedule": "0 2 * * *", "handler": "echo", "timeout": "5m"}],
        "menuItems": [],
        "enabled": enabled,
        "loaded": True,
    }
    entry.update(extra)
    return entry


def jwt_encode(claims: dict[str, Any], secret: bytes) -> str:
    def part(value: Any) -> str:
        raw = json.dumps(value, separators=(",", ":")).encode()
        return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()

    head = part({"alg": "HS256", "typ": "JWT"}) + "." + part(claims)
    signature = hmac.new(secret, head.encode(), hashlib.sha256).digest()
    return head + "." + base64.urlsafe_b64encode(signature).rstrip(b"=").decode()


def jwt_claims(token: str, secret: bytes) -> dict[str, Any] | None:
    """The claims of a token this server signed and that has not expired, else None."""
    parts = token.split(".")
    if len(parts) != 3:
        return None
    head = f"{parts[0]}.{parts[1]}"
    expected = hmac.new(secret, head.encode(), hashlib.sha256).digest()
    try:
        signature = base64.urlsafe_b64decode(parts[2] + "=" * (-len(parts[2]) % 4))
        claims = json.loads(base64.urlsafe_b64decode(parts[1] + "=" * (-len(parts[1]) % 4)))
    except ValueError:
        return None
    if not hmac.compare_digest(signature, expected) or not isinstance(claims, dict):
        return None
    if float(claims.get("exp", 0)) <= time.time():
        return None
    return claims


@dataclass
class User:
    login: str
    password: str = PASSWORD
    admin: bool = False
    disabled: bool = False


def default_users() -> dict[str, User]:
    return {"ops": User("ops", admin=True), "dev": User("dev")}


def not_loaded_entry(name: str) -> dict[str, Any]:
    return {
        "name": name,
        "version": "",
        "description": "Not loaded (lazy loading enabled)",
        "loaded": False,
        "enabled": False,
    }


def default_plugins() -> dict[str, dict[str, Any]]:
    return {
        "alpha": plugin_entry("alpha"),
        "beta": plugin_entry("beta", enabled=False),
        "lazy": not_loaded_entry("lazy"),
    }


@dataclass
class GatewayState:
    plugins: dict[str, dict[str, Any]] = field(default_factory=default_plugins)
    tokens: dict[str, str] = field(
        default_factory=lambda: {ADMIN_TOKEN: "admin", USER_TOKEN: "user"}
    )
    # Lazy plugins: what a not loaded entry (by its file name) is listed as once a call
    # loads it; a file name missing here loads as plugin_entry(file name).
    loads_as: dict[str, dict[str, Any]] = field(default_factory=dict)
    # Sign-in: who may, how long their tokens last, and GoatFlow's refresh TODO.
    users: dict[str, User] = field(default_factory=default_users)
    token_lifetime: float = 900.0
    refresh_keeps_admin: bool = False
    refresh_tokens: dict[str, str] = field(default_factory=dict)  # token -> login
    failed_logins: int = 0
    secret: bytes = field(default_factory=lambda: random.randbytes(32))
    # Tokens issued here, in order: (kind "login" | "refresh", login, admin), and the
    # access tokens themselves (to look for them where they must not be).
    issued: list[tuple[str, str, bool]] = field(default_factory=list)
    access_tokens: list[str] = field(default_factory=list)
    widgets: dict[tuple[str, str], str] = field(
        default_factory=lambda: {("alpha", "summary"): "<h2>Tickets</h2><p>42 open</p>"}
    )
    # Oldest first, bounded like GoatFlow's ring.
    logs: deque[dict[str, Any]] = field(default_factory=lambda: deque(maxlen=LOG_RING))
    # Seconds every answer waits before it is sent.
    delay: float = 0.0
    # (method, path after /api/v1) -> (status, content type, body): answers that override.
    # `{bearer}` in a forced body becomes the request's bearer token, `{password}` the
    # password a sign-in sent.
    forced: dict[tuple[str, str], tuple[int, str, bytes]] = field(default_factory=dict)
    # A careless server: every error it answers quotes the bearer token it was sent.
    echo_token: bool = False
    # (method, path after /api/v1) answered with a body that never ends (chunked, no
    # length) until the client hangs up.
    endless: set[tuple[str, str]] = field(default_factory=set)
    # What came in: method, the path with its query, and the headers.
    requests: list[tuple[str, str, dict[str, str]]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)
    _log_seq: int = 0

    def log(self, plugin: str, level: str, message: str, **fields: str) -> dict[str, Any]:
        with self.lock:
            self._log_seq += 1
            stamp = _EPOCH + timedelta(milliseconds=self._log_seq)
            entry = {
                "timestamp": stamp.isoformat().replace("+00:00", "Z"),
                "plugin": plugin,
                "level": level,
                "message": message,
                "fields": dict(fields),
            }
            self.logs.append(entry)
            return entry

    def count(self, method: str, path: str) -> int:
        with self.lock:
            return sum(1 for m, p, _ in self.requests if m == method and p.split("?")[0] == path)

    def load(self, name: str) -> dict[str, Any]:
        """Load the lazy plugin listed as name: it is listed as `loads_as` gives from now
        on (call under the lock)."""
        entry = self.loads_as.pop(name, None) or plugin_entry(name)
        del self.plugins[name]
        self.plugins[entry["name"]] = entry
        return entry

    def issue(self, kind: str, user: User, admin: bool) -> tuple[str, float]:
        """A signed access token for user and its lifetime (call under the lock)."""
        lifetime = self.token_lifetime
        claims = {
            "user_id": sorted(self.users).index(user.login) + 1,
            "email": f"{user.login}@example.com",
            "role": "Admin" if admin else "User",
            "is_admin": admin,
            "exp": round(time.time() + lifetime, 3),
            "jti": random.randbytes(6).hex(),
        }
        self.issued.append((kind, user.login, admin))
        token = jwt_encode(claims, self.secret)
        self.access_tokens.append(token)
        return token, lifetime

    def role_of(self, token: str) -> str | None:
        """ "admin", "user", or None for a token this server does not accept."""
        role = self.tokens.get(token)
        if role is not None:
            return role
        claims = jwt_claims(token, self.secret)
        if claims is None:
            return None
        return "admin" if claims.get("is_admin") is True else "user"


class _Handler(BaseHTTPRequestHandler):
    server: _Server
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:  # keep test output clean
        pass

    def do_GET(self) -> None:
        self._handle("GET")

    def do_POST(self) -> None:
        self._handle("POST")

    def do_DELETE(self) -> None:
        self._handle("DELETE")

    # -- plumbing ------------------------------------------------------------------

    def _send(self, status: int, body: bytes, content_type: str) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def _endless(self) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        chunk = b'"' + b"x" * 65530 + b'",'
        self.wfile.write(b"1\r\n[\r\n")
        while True:  # ends when the client hangs up (the caller suppresses that)
            self.wfile.write(b"%x\r\n%s\r\n" % (len(chunk), chunk))

    def _json(self, status: int, value: Any) -> None:
        if status >= 400 and self.server.state.echo_token and isinstance(value, dict):
            value = {**value, "error": f"{value.get('error', '')} (sent: {self._bearer()})"}
        self._send(status, json.dumps(value).encode(), "application/json; charset=utf-8")

    def _bearer(self) -> str:
        return self.headers.get("Authorization", "").removeprefix("Bearer ")

    def _text(self, status: int, text: str, content_type: str = "text/plain") -> None:
        self._send(status, text.encode(), f"{content_type}; charset=utf-8")

    def _handle(self, method: str) -> None:
        state = self.server.state
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        url = urlsplit(self.path)
        with state.lock:
            state.requests.append((method, self.path, dict(self.headers.items())))
            delay = state.delay
        if delay:
            time.sleep(delay)
        # The client may have given up already (a timeout test).
        with contextlib.suppress(BrokenPipeError, ConnectionResetError):
            self._answer(method, url.path, url.query, body)

    def _answer(self, method: str, full_path: str, raw_query: str, body: bytes) -> None:
        if not full_path.startswith("/api/v1/"):
            self._text(404, "404 page not found")
            return
        path = full_path[len("/api/v1") :]
        if (method, path) in self.server.state.endless:
            self._endless()
            return
        forced = self.server.state.forced.get((method, path))
        if forced is not None:
            said = forced[2].replace(b"{bearer}", self._bearer().encode())
            if b"{password}" in said:  # a careless sign-in error quoting what it was sent
                try:
                    password = str(json.loads(body).get("password", ""))
                except (ValueError, AttributeError):
                    password = ""
                said = said.replace(b"{password}", json.dumps(password)[1:-1].encode())
            self._send(forced[0], said, forced[1])
            return
        if method == "POST" and path in ("/auth/login", "/auth/refresh"):
            self._sign_in(path, body)
            return
        role = self._auth()
        if role is None:
            return
        query = {k: v[0] for k, v in parse_qs(raw_query).items()}
        parts = [unquote(p) for p in path.strip("/").split("/")]
        self._route(method, parts, query, body, role)

    def _auth(self) -> str | None:
        header = self.headers.get("Authorization", "")
        if not header.startswith("Bearer ") or not header[7:]:
            self._json(401, {"success": False, "error": "Missing authorization token"})
            return None
        with self.server.state.lock:
            role = self.server.state.role_of(header[7:])
        if role is None:
            self._json(401, {"success": False, "error": "Invalid or expired token"})
        return role

    def _admin(self, role: str) -> bool:
        if role != "admin":
            self._json(403, {"error": "admin access required"})
            return False
        return True

    # -- sign-in -----------------------------------------------------------------------

    def _sign_in(self, path: str, body: bytes) -> None:
        state = self.server.state
        try:
            value = json.loads(body)
        except ValueError:
            value = None
        if not isinstance(value, dict):
            self._json(400, {"success": False, "error": "Invalid request"})
            return
        with state.lock:
            if path == "/auth/refresh":
                login = state.refresh_tokens.get(str(value.get("refresh_token", "")))
                user = state.users.get(login or "")
                if user is None or user.disabled:
                    answer = (401, {"success": False, "error": "Invalid or expired refresh token"})
                else:
                    admin = user.admin and state.refresh_keeps_admin
                    token, lifetime = state.issue("refresh", user, admin)
                    answer = (
                        200,
                        {
                            "success": True,
                            "access_token": token,
                            "token_type": "Bearer",
                            "expires_in": lifetime,
                        },
                    )
            else:
                answer = self._login(state, value)
        self._json(*answer)

    @staticmethod
    def _login(state: GatewayState, value: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        if state.failed_logins >= LOGIN_ATTEMPTS:
            return 429, {"success": False, "error": "Too many login attempts, try again later"}
        user = state.users.get(str(value.get("login", "")))
        if user is None or not hmac.compare_digest(str(value.get("password", "")), user.password):
            state.failed_logins += 1
            return 401, {"success": False, "error": "Invalid credentials"}
        if user.disabled:
            return 403, {"success": False, "error": "User account is disabled"}
        token, lifetime = state.issue("login", user, user.admin)
        refresh = "rt-" + random.randbytes(16).hex()
        state.refresh_tokens[refresh] = user.login
        return 200, {
            "success": True,
            "user": {
                "id": sorted(state.users).index(user.login) + 1,
                "login": user.login,
                "email": f"{user.login}@example.com",
                "first_name": user.login.title(),
                "last_name": "Tester",
                "role": "Admin" if user.admin else "User",
            },
            "access_token": token,
            "refresh_token": refresh,
            "token_type": "Bearer",
            "expires_in": lifetime,
        }

    # -- GoatFlow's endpoints ----------------------------------------------------------

    def _route(
        self, method: str, parts: list[str], query: dict[str, str], body: bytes, role: str
    ) -> None:
        state = self.server.state
        match method, parts:
            case "GET", ["plugins"]:
                with state.lock:
                    plugins = [_as_listed(p) for p in state.plugins.values()]
                random.shuffle(plugins)  # a Go map: no stable order
                self._json(200, {"plugins": plugins})
            case "GET", ["plugins", "widgets"]:
                with state.lock:  # listing widgets loads every plugin
                    for name in [n for n, p in state.plugins.items() if p.get("loaded") is False]:
                        state.load(name)
                location = query.get("location", "dashboard")
                widgets = [
                    {
                        "id": w["id"],
                        "title": w.get("title", ""),
                        "plugin_name": p["name"],
                        "size": w.get("size", ""),
                        "refreshable": w.get("refreshable", False),
                        "refresh_sec": w.get("refresh_sec", 0),
                    }
                    for p in state.plugins.values()
                    for w in p.get("widgets", [])
                    if w.get("location", "dashboard") == location
                ]
                self._json(200, {"widgets": widgets})
            case "GET", ["plugins", "logs"]:
                if self._admin(role):
                    self._logs(query)
            case "DELETE", ["plugins", "logs"]:
                if self._admin(role):
                    with state.lock:
                        state.logs.clear()
                    self._json(200, {"message": "Plugin logs cleared"})
            case "POST", ["plugins", name, "call", function]:
                self._call(name, function, body)
            case "GET", ["plugins", name, "widgets", widget_id]:
                self._widget(name, widget_id)
            case "POST", ["plugins", name, ("enable" | "disable") as verb]:
                if not self._admin(role):
                    return
                with state.lock:
                    entry = state.plugins.get(name)
                    if entry is not None:
                        entry["enabled"] = verb == "enable"
                if entry is None:
                    self._json(404, {"error": f"plugin not found: {name}"})
                else:
                    self._json(200, {"status": f"{verb}d"})
            case _:
                self._text(404, "404 page not found")

    def _logs(self, query: dict[str, str]) -> None:
        state = self.server.state
        with state.lock:
            newest_first = list(reversed(state.logs))
            total = len(state.logs)
        limit = int(query.get("limit") or 100)
        # GATEWAY_API.md: only one filter applies.
        if query.get("plugin"):
            entries = [e for e in newest_first if e["plugin"] == query["plugin"]]
        elif query.get("level"):
            order = ["debug", "info", "warn", "error"]
            floor = order.index(query["level"])
            entries = [e for e in newest_first if order.index(e["level"]) >= floor]
        else:
            entries = newest_first[:limit]
        self._json(200, {"logs": entries, "count": len(entries), "total": total})

    def _call(self, name: str, function: str, body: bytes) -> None:
        state = self.server.state
        with state.lock:
            entry = state.plugins.get(name)
            if entry is not None and entry.get("loaded") is False:
                entry = state.load(name)  # a call loads a lazy plugin
        if entry is None:
            self._json(404, {"error": f"plugin not found: {name}"})
            return
        if not entry.get("enabled"):
            self._json(403, {"error": f"plugin {name} is disabled"})
            return
        args = json.loads(body) if body.strip() else {}
        match function:
            case "echo" | "summary_widget":
                self._send(200, body or b"{}", "application/json")
            case "fail":  # the call itself failed (the host says so)
                self._json(400, {"error": args.get("message", "failed")})
            case "plugin_error":  # the plugin's own failure: a result
                self._json(200, {"error": args.get("message", "it failed")})
            case "empty":
                self._send(200, b"", "application/json")
            case "slow":
                time.sleep(float(args.get("seconds", 1)))
                self._json(200, {"slept": args.get("seconds", 1)})
            case "hostile":
                self._json(200, {"text": HOSTILE})
            case "big":
                self._json(200, {"data": "x" * int(args.get("size", 1024))})
            case _:  # GoatFlow's plugins answer an unknown function as a result
                self._json(200, {"error": f"unknown function: {function}"})

    def _widget(self, name: str, widget_id: str) -> None:
        state = self.server.state
        entry = state.plugins.get(name)
        # The manager hides disabled plugins from Get, and Get does not load.
        if entry is None or entry.get("loaded") is False or not entry.get("enabled"):
            self._text(404, f"Plugin not found: {name}")
            return
        html = state.widgets.get((name, widget_id))
        if html is None:
            self._text(404, f"Widget not found: {name}/{widget_id}")
        elif html.startswith("!error "):
            self._text(500, f"Widget error: {html[7:]}")
        else:
            self._text(200, html, "text/html")


def _as_listed(entry: dict[str, Any]) -> dict[str, Any]:
    """An entry as GET /plugins shows it: each job's `enabled` a Go bool, always there."""
    jobs = entry.get("jobs")
    if not isinstance(jobs, list):
        return dict(entry)
    listed = [dict(j, enabled=j.get("enabled") is True) if isinstance(j, dict) else j for j in jobs]
    return dict(entry, jobs=listed)


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False
    state: GatewayState


class GatewayServer:
    """`with GatewayServer() as gw:` serves on gw.url until the block ends."""

    def __init__(self, state: GatewayState | None = None, tls: tuple[Path, Path] | None = None):
        self.state = state or GatewayState()
        self._server = _Server(("127.0.0.1", 0), _Handler)
        self._server.state = self.state
        self.scheme = "http"
        if tls is not None:
            context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            context.load_cert_chain(str(tls[0]), str(tls[1]))
            self._server.socket = context.wrap_socket(
                self._server.socket, server_side=True, do_handshake_on_connect=False
            )
            self.scheme = "https"
        # A short poll interval: shutdown() waits for it, in every test's teardown.
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        )

    @property
    def port(self) -> int:
        return int(self._server.server_address[1])

    @property
    def url(self) -> str:
        return f"{self.scheme}://127.0.0.1:{self.port}"

    def start(self) -> GatewayServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def __enter__(self) -> GatewayServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def self_signed_cert(directory: Path) -> tuple[Path, Path]:
    """A certificate for 127.0.0.1 and its key, made by the openssl command."""
    cert, key = directory / "cert.pem", directory / "key.pem"
    subprocess.run(
        [
            "openssl",
            "req",
            "-x509",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:prime256v1",
            "-nodes",
            "-keyout",
            str(key),
            "-out",
            str(cert),
            "-days",
            "1",
            "-subj",
            "/CN=127.0.0.1",
            "-addext",
            "subjectAltName=IP:127.0.0.1",
        ],
        check=True,
        capture_output=True,
        timeout=30,
    )
    return cert, key


def free_port() -> int:
    """A port nothing listens on (for connection-refused tests)."""
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])
