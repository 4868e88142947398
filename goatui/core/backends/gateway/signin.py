"""Keeping a gateway's token usable for a whole shift: sign-in, refresh, signed out.

GoatFlow's access tokens expire after 15 minutes (GATEWAY_API.md). `TokenKeeper` holds
the gateway's `Credentials` and, for a sign-in from `goatui login` (or the console's
sign-in screen):
  * refreshes the access token before it expires (`POST /auth/refresh`), and once
    after a 401 "Invalid or expired token", so the request is sent again once;
  * stores the refreshed token again (`gateway.store`), and adopts a newer stored
    sign-in (another goatui refreshed it, or the operator signed in elsewhere);
  * one refresh at a time, however many requests find the token stale together.
When no way to a token is left (no refresh token, the refresh refused, an explicit
token refused), it is *signed out*: `problem` says why in one line, requests fail at
once with that line instead of being sent, and `status()` tells the console, which
says so in one place and offers its sign-in screen.

Explicit tokens ($GOATFLOW_TOKEN, a token file) are used as they are: never refreshed,
never stored. Refreshed tokens carry no admin rights (GoatFlow's TODO): an admin
action refused after a refresh says exactly that. No message built here holds a token
or a password.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any, Literal

from goatui.core.backends.base import SignInStatus, login_command
from goatui.core.backends.gateway.auth import (
    TOKEN_ENV,
    BearerAuth,
    Credentials,
    as_number,
    check_token,
)
from goatui.core.backends.gateway.store import SignInStore
from goatui.core.errors import GoatError, PermissionRefused, RemoteError, UsageError
from goatui.core.sanitize import sanitize_line
from goatui.core.secrets import register_secret

LOGIN_PATH = "/auth/login"
REFRESH_PATH = "/auth/refresh"
_ERROR_TEXT_MAX = 200

#: One JSON exchange without a bearer token: (path under /api/v1, payload, what it is
#: for) -> (HTTP status, the JSON answer or None, GoatFlow's error text).
Post = Callable[[str, dict[str, str], str], Awaitable[tuple[int, Any, str]]]


class TokenKeeper:
    """The credentials of one gateway and what keeps them usable (see the module)."""

    def __init__(
        self,
        gateway: str,
        credentials: Credentials | None,
        *,
        store: SignInStore | None = None,
        context: str | None = None,
        store_error: UsageError | None = None,
    ) -> None:
        """`store_error`: the stored sign-in could not be read (said by every request,
        exit 2, until `goatui login` or `logout` replaces it)."""
        self.gateway = gateway
        self.context = context
        self.store = store
        self.credentials = credentials
        self.store_error = store_error
        self.problem = store_error.message if store_error is not None else ""
        self.admin_lost = False
        # Bumped on every new access token: a request that got 401 with an older one
        # is simply sent again, without another refresh.
        self.generation = 0
        self._auth = BearerAuth(credentials) if credentials is not None else None
        self._lock: asyncio.Lock | None = None
        self._lock_loop: asyncio.AbstractEventLoop | None = None

    def __repr__(self) -> str:
        return f"TokenKeeper({self.gateway!r}, {self.credentials!r})"

    @property
    def auth(self) -> BearerAuth | None:
        return self._auth

    @property
    def login_hint(self) -> str:
        return f"sign in: {login_command(self.gateway, self.context)}"

    def status(self) -> SignInStatus:
        c = self.credentials
        kind: Literal["sign-in", "token", "none"] = "none"
        if c is not None:
            kind = "sign-in" if c.signed_in else "token"
        return SignInStatus(
            gateway=self.gateway,
            context=self.context,
            kind=kind,
            user=c.user if c is not None else "",
            admin=c.admin if c is not None else None,
            problem=self.problem,
            admin_lost=self.admin_lost,
            expires_at=c.expires_at if c is not None else None,
        )

    def _take(self, credentials: Credentials) -> None:
        self.credentials = credentials
        self._auth = BearerAuth(credentials)
        self.generation += 1
        self.problem = ""
        self.store_error = None
        self.admin_lost = False

    def _lock_for_loop(self) -> asyncio.Lock:
        loop = asyncio.get_running_loop()
        if self._lock is None or self._lock_loop is not loop:
            self._lock, self._lock_loop = asyncio.Lock(), loop
        return self._lock

    # -- before and after a request ----------------------------------------------------

    async def ready(self, post: Post, what: str) -> int:
        """Before a request: the generation of the token it will carry. Refreshes an
        expiring sign-in first; signed out, raises at once (nothing is sent), unless a
        newer stored sign-in can be adopted."""
        if self.problem and not await self._adopt_stored():
            raise self.signed_out(what)
        c = self.credentials
        if c is not None and c.signed_in and c.expiring():
            await self._refresh(post, self.generation)
            if self.problem:
                raise self.signed_out(what)
        return self.generation

    async def retry_after_401(self, post: Post, generation: int, message: str) -> bool:
        """A request with token `generation` got 401: True when it should be sent again
        (once) with a refreshed or adopted token; False when signed out (`problem` set)."""
        c = self.credentials
        if self.generation != generation and not self.problem:
            return True  # another request refreshed it meanwhile
        if await self._adopt_stored():
            return True
        if c is not None and c.signed_in:
            return await self._refresh(post, generation)
        self.problem = self.refused_reason(message)
        return False

    async def retry_after_403(self) -> bool:
        """A 403 (admin access required, after a refresh took the rights away): True
        when a newer stored sign-in was adopted (`goatui login` in another terminal),
        so the request is sent again once. `logs -f` then goes on by itself."""
        return await self._adopt_stored()

    def signed_out(self, what: str) -> GoatError:
        """The error every request gets while signed out."""
        if self.store_error is not None:
            return UsageError(f"{what}: {self.store_error.message}", self.store_error.hint)
        hint = self.login_hint
        c = self.credentials
        if c is None:
            hint += f", or set ${TOKEN_ENV} or --token-file FILE"
        elif not c.signed_in and not c.looks_like_api_token:
            hint += " (goatui refreshes a sign-in's tokens), or get a fresh token"
        return PermissionRefused(f"{what}: {self.problem}", hint)

    def admin_refused(self, what: str) -> PermissionRefused:
        """A 403 `admin access required`, explained by what goatui knows of the token."""
        c = self.credentials
        if c is not None and c.signed_in and c.refreshed and c.user_admin is not False:
            self.admin_lost = True
            return PermissionRefused(
                f"{what}: admin access required, and the token GoatFlow issued at the last "
                "refresh carries no admin rights (its refreshed tokens never do)",
                f"sign in again to have them: {login_command(self.gateway, self.context)}",
            )
        if c is not None and c.signed_in and (c.user_admin is False or c.admin is False):
            return PermissionRefused(
                f"{what}: admin access required, and {c.user or 'this user'} is not a "
                "GoatFlow admin",
                f"sign in as an admin: {login_command(self.gateway, self.context)} --user LOGIN",
            )
        return PermissionRefused(
            f"{what}: admin access required", "use a token of a GoatFlow admin"
        )

    def refused_reason(self, message: str) -> str:
        """Why the gateway's 401 leaves no way to a token (one line, no token)."""
        said = sanitize_line(message[:_ERROR_TEXT_MAX]) or "refused"
        c = self.credentials
        if c is None:
            return f"the gateway needs a sign-in ({said})"
        if c.looks_like_api_token:
            return (
                f"GoatFlow's plugin API takes only sign-in tokens (JWTs), and {c.source} is "
                "a personal API token (gf_...), which it refuses"
            )
        if c.expired():
            assert c.expires_at is not None
            ago = _ago(time.time() - c.expires_at)
            at = datetime.fromtimestamp(c.expires_at).strftime("%H:%M:%S")
            return f"{c.source} expired at {at} ({ago} ago)"
        return f"the gateway refused {c.source} ({said})"

    # -- refresh -----------------------------------------------------------------------

    async def _refresh(self, post: Post, generation: int) -> bool:
        """One refresh for everyone waiting on the same stale token. True when there is
        a new token; False when signed out. Transport failures raise (not signed out)."""
        async with self._lock_for_loop():
            if self.generation != generation:
                return not self.problem
            c = self.credentials
            if c is None or not c.signed_in:
                return False
            status, value, message = await post(
                REFRESH_PATH, {"refresh_token": c.refresh}, "refreshing the sign-in"
            )
            if status in (400, 401, 403):
                said = sanitize_line(message[:_ERROR_TEXT_MAX]) or f"HTTP {status}"
                who = f"of {sanitize_line(c.user)} " if c.user else ""
                self.problem = (
                    f"signed out: the sign-in {who}expired and GoatFlow refused to refresh "
                    f"it ({said})"
                )
                return False
            access = value.get("access_token") if isinstance(value, dict) else None
            if not 200 <= status < 300 or not isinstance(access, str):
                raise RemoteError(
                    f"refreshing the sign-in: the gateway answered HTTP {status} "
                    f"({sanitize_line(message[:_ERROR_TEXT_MAX]) or 'no access_token'})",
                    code="REFRESH_FAILED",
                )
            c.renewed(check_token(access, "the refresh answer"), _seconds(value), refreshed=True)
            self.generation += 1
            self.problem = ""
            if c.admin:
                self.admin_lost = False  # a GoatFlow that keeps admin across refreshes
            await self._save(c)
            return True

    async def _save(self, credentials: Credentials) -> None:
        if self.store is None:
            return
        # A failed write leaves the token working from memory; the next refresh retries.
        with contextlib.suppress(OSError):
            await asyncio.to_thread(self.store.save, self.gateway, credentials)

    async def _adopt_stored(self) -> bool:
        """Take the stored sign-in when it is not the one in use (another goatui, or a
        `goatui login` since). Only where the sign-in is what is used: an explicit token
        wins over it, whatever happens to the token."""
        c = self.credentials
        if self.store is None or (c is not None and not c.signed_in):
            return False
        try:
            stored = await asyncio.to_thread(self.store.load, self.gateway)
        except (GoatError, OSError):
            return False
        if stored is None or (c is not None and stored.access == c.access):
            return False
        if c is not None and stored.refresh == c.refresh and stored.expired():
            return False
        self._take(stored)
        return True

    # -- signing in and out ------------------------------------------------------------

    async def sign_in(self, post: Post, login: str, password: str) -> SignInStatus:
        """POST /auth/login; the new sign-in is used and stored. PermissionRefused (exit
        4) when GoatFlow refuses it; the password is never in a message."""
        what = f"signing in to {self.gateway} as {sanitize_line(login)}"
        # A server quoting the password back in an error is shown and stored as ***.
        register_secret(password)
        status, value, message = await post(
            LOGIN_PATH, {"login": login, "password": password}, what
        )
        said = sanitize_line(message[:_ERROR_TEXT_MAX]) or f"HTTP {status}"
        if status == 401:
            raise PermissionRefused(
                f"{what}: GoatFlow refused the login or the password ({said})",
                "check them and try again",
            )
        if status == 403:
            raise PermissionRefused(f"{what}: the account is disabled ({said})")
        if status == 429:
            raise PermissionRefused(
                f"{what}: too many failed sign-ins; GoatFlow refuses more for a while ({said})",
                "wait, then try again",
            )
        if status == 404:
            raise RemoteError(
                f"{what}: the gateway has no sign-in endpoint (HTTP 404 at /api/v1/auth/login)",
                code="NOT_FOUND",
                hint="is --gateway GoatFlow's base URL?",
            )
        access = value.get("access_token") if isinstance(value, dict) else None
        refresh = value.get("refresh_token") if isinstance(value, dict) else None
        if not 200 <= status < 300 or not isinstance(access, str):
            raise RemoteError(f"{what}: the gateway answered HTTP {status} ({said})")
        user = value.get("user") if isinstance(value, dict) else None
        name = user.get("login") if isinstance(user, dict) else None
        credentials = Credentials(
            access="",
            source=f"the sign-in of {sanitize_line(login)}",
            refresh=check_token(refresh, "the sign-in answer") if isinstance(refresh, str) else "",
            user=name if isinstance(name, str) and name else login,
        )
        credentials.renewed(
            check_token(access, "the sign-in answer"), _seconds(value), refreshed=False
        )
        if credentials.admin is None and isinstance(user, dict):
            credentials.admin = str(user.get("role", "")).lower() == "admin"
        credentials.user_admin = credentials.admin
        async with self._lock_for_loop():
            self._take(credentials)
        await self._save(credentials)
        return self.status()

    def sign_out(self) -> bool:
        """Forget the stored sign-in (and stop using it here). False: there was none."""
        forgotten = self.store.forget(self.gateway) if self.store is not None else False
        c = self.credentials
        if c is not None and c.signed_in:
            self.credentials, self._auth = None, None
            self.generation += 1
            self.problem = "signed out with goatui logout"
        return forgotten


def _seconds(value: Any) -> float | None:
    return as_number(value.get("expires_in")) if isinstance(value, dict) else None


def _ago(seconds: float) -> str:
    seconds = max(seconds, 0.0)
    if seconds < 90:
        return f"{seconds:.0f}s"
    if seconds < 5400:
        return f"{seconds / 60:.0f} min"
    return f"{seconds / 3600:.1f} h"
