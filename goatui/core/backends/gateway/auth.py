"""The gateway's bearer token: where it comes from, checked, and kept out of sight.

Tokens are secret: they live in `Credentials` (whose repr hides them), go only into the
Authorization header or the body of GoatFlow's sign-in and refresh requests (never a
URL, so httpx errors, which name the URL, cannot carry one), and no message built here
includes one. Every token goatui gets (read here, or from a sign-in or a refresh) is
registered with `goatui.core.secrets`, which scrubs it from whatever goatui shows or
stores (a server may echo it back). Where they come from, first found wins:
`--token-file`, a context's `token_file`, `$GOATFLOW_TOKEN` (explicit tokens, used as
they are), then the sign-in `goatui login` stored for that gateway (`gateway.store`),
which goatui refreshes.
"""

from __future__ import annotations

import base64
import json
import os
import time
from collections.abc import Generator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from goatui.core.errors import UsageError
from goatui.core.sanitize import sanitize_line
from goatui.core.secrets import TOKEN_ENV, register_secret

__all__ = [
    "TOKEN_ENV",
    "BearerAuth",
    "Credentials",
    "as_number",
    "check_token",
    "explicit_credentials",
    "read_token_file",
    "resolve_token",
]
#: GoatFlow's personal API tokens start so; its plugin API refuses them (JWTs only).
API_TOKEN_PREFIX = "gf_"
_TOKEN_FILE_MAX = 64 * 1024
# Refresh this long before the access token expires, or a tenth of its life if shorter.
REFRESH_AHEAD_S = 60.0


def token_claims(token: str) -> dict[str, Any]:
    """The claims of a JWT, read without checking its signature (only GoatFlow can):
    enough to know when it expires and whether it says admin. {} when not a JWT."""
    parts = token.split(".")
    if len(parts) != 3:
        return {}
    try:
        payload = base64.urlsafe_b64decode(parts[1] + "=" * (-len(parts[1]) % 4))
        claims = json.loads(payload)
    except (ValueError, RecursionError):
        return {}
    return claims if isinstance(claims, dict) else {}


def as_number(value: Any) -> float | None:
    """A JSON number as a float (not a bool, which Python counts as an int); else None."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value)


@dataclass(eq=False)
class Credentials:
    """The tokens goatui holds for one gateway, and what is known about them.

    `source` names the token for messages, saying where it came from ("the token in
    $GOATFLOW_TOKEN", "the sign-in of ops"); never the token itself.
    A sign-in (`refresh` set) can be refreshed and is stored again when it is.
    """

    access: str
    source: str
    refresh: str = ""
    user: str = ""
    expires_at: float | None = None
    # When the access token was issued (its `iat`, or when goatui got it): with
    # expires_at, how long it lives, so a 2 s token is not refreshed a minute early.
    issued_at: float | None = None
    admin: bool | None = None
    # The access token came from a refresh: GoatFlow's refreshed tokens carry no admin
    # claim (GATEWAY_API.md), whatever the user is.
    refreshed: bool = False
    # Whether the user was an admin when signing in (what a refresh cannot tell).
    user_admin: bool | None = None

    def __post_init__(self) -> None:
        # However a token came (a file, the environment, a sign-in, the store), it is
        # scrubbed from everything goatui shows or stores from now on.
        register_secret(self.access)
        register_secret(self.refresh)

    def __repr__(self) -> str:
        return f"<credentials from {self.source}, tokens hidden>"

    @classmethod
    def explicit(cls, token: str, source: str) -> Credentials:
        """A token given to goatui as it is ($GOATFLOW_TOKEN, a token file)."""
        claims = token_claims(token)
        admin = claims.get("is_admin")
        return cls(
            access=token,
            source=source,
            expires_at=as_number(claims.get("exp")),
            issued_at=as_number(claims.get("iat")),
            admin=admin if isinstance(admin, bool) else None,
        )

    @property
    def signed_in(self) -> bool:
        """From `goatui login`: refreshable, and stored again when refreshed."""
        return bool(self.refresh)

    @property
    def looks_like_api_token(self) -> bool:
        return self.access.startswith(API_TOKEN_PREFIX)

    def renewed(self, access: str, expires_in: float | None, *, refreshed: bool) -> None:
        """Take a new access token (from a sign-in or a refresh). `expires_in`, relative
        to now, is preferred to the token's `exp`: this machine's clock may be off."""
        now = time.time()
        register_secret(access)
        claims = token_claims(access)
        admin = claims.get("is_admin")
        self.access = access
        if expires_in is not None and expires_in > 0:
            self.expires_at = now + expires_in
        else:
            self.expires_at = as_number(claims.get("exp"))
        self.issued_at = now
        self.admin = admin if isinstance(admin, bool) else None
        self.refreshed = refreshed

    def expiring(self, now: float | None = None) -> bool:
        """Close enough to its expiry (or past it) that it should be refreshed first."""
        if self.expires_at is None:
            return False
        now = time.time() if now is None else now
        ahead = REFRESH_AHEAD_S
        if self.issued_at is not None:
            ahead = min(ahead, max(self.expires_at - self.issued_at, 0.0) / 10)
        return now >= self.expires_at - ahead

    def expired(self, now: float | None = None) -> bool:
        now = time.time() if now is None else now
        return self.expires_at is not None and now >= self.expires_at


class BearerAuth(httpx.Auth):
    """Adds the current access token to each request (read when the request is sent,
    so a refresh applies to the next one)."""

    __slots__ = ("_credentials",)

    def __init__(self, credentials: Credentials) -> None:
        self._credentials = credentials

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        request.headers["Authorization"] = f"Bearer {self._credentials.access}"
        yield request

    def __repr__(self) -> str:
        return "<bearer token hidden>"


def check_token(token: str, source: str) -> str:
    """The token stripped, or UsageError (naming only where it came from, never its text)."""
    token = token.strip()
    register_secret(token)  # even a refused one: it is still someone's secret
    if not token:
        raise UsageError(f"the token in {source} is empty")
    # Visible ASCII only: anything else could split the header, and httpx's complaint
    # about an illegal header value would quote the token.
    if not all(0x21 <= ord(ch) <= 0x7E for ch in token):
        raise UsageError(
            f"the token in {source} is not a bearer token",
            "it must be one line of visible ASCII (a JWT)",
        )
    return token


def read_private_file(
    path: str | Path, what: str, limit: int = _TOKEN_FILE_MAX, *, too_large: str = "is too large"
) -> bytes:
    """A file only its owner can read or write (like ssh with private keys): its bytes,
    at most `limit`. UsageError naming `what` and the path, never the contents."""
    shown = sanitize_line(str(path))
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError as exc:
        raise UsageError(f"cannot read {what} {shown}: {exc.strerror}") from None
    try:
        # fstat the opened file, not the path, so the file checked is the file read.
        mode = os.fstat(fd).st_mode & 0o777
        if mode & 0o077:
            raise UsageError(
                f"{what} {shown} can be read or written by group or others "
                f"(mode {mode:03o}); nothing was sent",
                f"fix it: chmod 600 {shown}",
            )
        with os.fdopen(fd, "rb", closefd=False) as handle:
            data = handle.read(limit + 1)
    finally:
        os.close(fd)
    if len(data) > limit:
        raise UsageError(f"{what} {shown} {too_large}")
    return data


def read_token_file(path: str | Path) -> str:
    """A token from a file only its owner can read."""
    shown = sanitize_line(str(path))
    data = read_private_file(path, "token file", too_large="is too large to be a token")
    try:
        text = data.decode("ascii")
    except UnicodeDecodeError:
        raise UsageError(f"token file {shown} is not a bearer token (not ASCII)") from None
    return check_token(text, f"token file {shown}")


def resolve_token(
    token_file: str | Path | None, environ: Mapping[str, str] | None = None
) -> str | None:
    """--token-file when given, else $GOATFLOW_TOKEN, else no token."""
    found = explicit_credentials(token_file, environ)
    return found.access if found is not None else None


def explicit_credentials(
    token_file: str | Path | None, environ: Mapping[str, str] | None = None
) -> Credentials | None:
    """The token given explicitly: --token-file (or a context's token_file) when given,
    else $GOATFLOW_TOKEN; None when neither is."""
    if token_file:
        shown = sanitize_line(str(token_file))
        return Credentials.explicit(read_token_file(token_file), f"the token in {shown}")
    env = os.environ if environ is None else environ
    value = env.get(TOKEN_ENV, "")
    if not value.strip():
        return None
    return Credentials.explicit(check_token(value, f"${TOKEN_ENV}"), f"the token in ${TOKEN_ENV}")
