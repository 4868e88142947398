"""The gateway's bearer token: where it comes from, checked, and kept out of sight.

The token is secret: it lives only in `BearerAuth` (whose repr hides it), goes only
into the Authorization header (never a URL, so httpx errors, which name the URL, cannot
carry it), and no message built here includes it. Every token read here is registered
with `goatui.core.secrets`, which scrubs it from whatever goatui shows or stores (a
server may echo it back).
"""

from __future__ import annotations

import os
from collections.abc import Generator, Mapping
from pathlib import Path

import httpx

from goatui.core.errors import UsageError
from goatui.core.sanitize import sanitize_line
from goatui.core.secrets import TOKEN_ENV, register_secret

__all__ = ["TOKEN_ENV", "BearerAuth", "check_token", "read_token_file", "resolve_token"]
_TOKEN_FILE_MAX = 64 * 1024


class BearerAuth(httpx.Auth):
    """Adds the token to each request; the only object that holds it."""

    __slots__ = ("_token",)

    def __init__(self, token: str) -> None:
        # However the token came (a file, the environment, a sign-in), it is scrubbed
        # from everything goatui shows or stores from now on.
        register_secret(token)
        self._token = token

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        request.headers["Authorization"] = f"Bearer {self._token}"
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


def read_token_file(path: str | Path) -> str:
    """A token from a file only its owner can read (like ssh with private keys)."""
    shown = sanitize_line(str(path))
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError as exc:
        raise UsageError(f"cannot read token file {shown}: {exc.strerror}") from None
    try:
        # fstat the opened file, not the path, so the file checked is the file read.
        mode = os.fstat(fd).st_mode & 0o777
        if mode & 0o077:
            raise UsageError(
                f"token file {shown} can be read or written by group or others "
                f"(mode {mode:03o}); nothing was sent",
                f"fix it: chmod 600 {shown}",
            )
        with os.fdopen(fd, "rb", closefd=False) as handle:
            data = handle.read(_TOKEN_FILE_MAX + 1)
    finally:
        os.close(fd)
    if len(data) > _TOKEN_FILE_MAX:
        raise UsageError(f"token file {shown} is too large to be a token")
    try:
        text = data.decode("ascii")
    except UnicodeDecodeError:
        raise UsageError(f"token file {shown} is not a bearer token (not ASCII)") from None
    return check_token(text, f"token file {shown}")


def resolve_token(
    token_file: str | Path | None, environ: Mapping[str, str] | None = None
) -> str | None:
    """--token-file when given, else $GOATFLOW_TOKEN, else no token."""
    if token_file:
        return read_token_file(token_file)
    env = os.environ if environ is None else environ
    value = env.get(TOKEN_ENV, "")
    return check_token(value, f"${TOKEN_ENV}") if value.strip() else None
