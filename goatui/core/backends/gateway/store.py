"""Sign-ins `goatui login` keeps: one file per gateway, private to the user.

$XDG_STATE_HOME/goatui/sign-ins/ (mode 0700) holds one JSON file (mode 0600) per gateway,
named by a hash of its base URL: the login, the access and refresh tokens, when the
access token expires and whether it carries admin rights. Written atomically (a private
temporary file renamed over the old one), so a reader never sees half a file; goatui
writes it again after each refresh. A file that others could read is refused, as a
token file is. Nothing here imports httpx.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import tempfile
import time
from pathlib import Path
from typing import Any

from goatui.core.backends.gateway.auth import (
    Credentials,
    as_number,
    check_token,
    read_private_file,
)
from goatui.core.config import state_home
from goatui.core.errors import UsageError
from goatui.core.sanitize import sanitize_line

SIGN_INS_DIR = "sign-ins"
_FILE_MAX = 256 * 1024


def sign_ins_dir() -> Path:
    return state_home() / SIGN_INS_DIR


class SignInStore:
    """The stored sign-ins; `directory` defaults to the state dir's (looked up on use)."""

    def __init__(self, directory: Path | None = None) -> None:
        self._directory = directory

    @property
    def directory(self) -> Path:
        return self._directory if self._directory is not None else sign_ins_dir()

    def path_for(self, gateway: str) -> Path:
        digest = hashlib.sha256(gateway.encode()).hexdigest()[:24]
        return self.directory / f"{digest}.json"

    def load(self, gateway: str) -> Credentials | None:
        """The sign-in stored for this gateway (its normalised base URL), if any."""
        path = self.path_for(gateway)
        if not path.exists():
            return None
        shown = sanitize_line(str(path))
        forget = f"`goatui logout --gateway {sanitize_line(gateway)}` forgets it"
        data = read_private_file(path, "stored sign-in", _FILE_MAX)
        try:
            value: Any = json.loads(data)
        except (ValueError, RecursionError):
            value = None
        fields = value if isinstance(value, dict) else {}
        access, refresh = fields.get("access_token"), fields.get("refresh_token")
        if fields.get("gateway") != gateway or not isinstance(access, str):
            raise UsageError(f"the stored sign-in {shown} is damaged", forget)
        where = f"the sign-in stored in {shown}"
        user = str(fields.get("user", ""))
        credentials = Credentials(
            access=check_token(access, where),
            source=f"the sign-in of {sanitize_line(user)}" if user else "the stored sign-in",
            refresh=check_token(refresh, where) if isinstance(refresh, str) and refresh else "",
            user=user,
            expires_at=as_number(fields.get("expires_at")),
            issued_at=as_number(fields.get("issued_at")),
            admin=_flag(fields.get("admin")),
            refreshed=fields.get("refreshed") is True,
            user_admin=_flag(fields.get("user_admin")),
        )
        return credentials

    def save(self, gateway: str, credentials: Credentials) -> Path:
        """Write the sign-in for this gateway (0600, in a 0700 directory), atomically."""
        directory = self.directory
        directory.mkdir(parents=True, exist_ok=True, mode=0o700)
        os.chmod(directory, 0o700)  # an existing directory too: it holds tokens
        document = {
            "gateway": gateway,
            "user": credentials.user,
            "access_token": credentials.access,
            "refresh_token": credentials.refresh,
            "expires_at": credentials.expires_at,
            "issued_at": credentials.issued_at,
            "admin": credentials.admin,
            "refreshed": credentials.refreshed,
            "user_admin": credentials.user_admin,
            "saved_at": time.time(),
        }
        path = self.path_for(gateway)
        # mkstemp makes the file 0600 from the start: the tokens are never readable.
        fd, temporary = tempfile.mkstemp(dir=directory, prefix=".sign-in-", suffix=".tmp")
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as handle:
                json.dump(document, handle)
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(temporary, path)
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(temporary)
            raise
        return path

    def forget(self, gateway: str) -> bool:
        """Remove the stored sign-in; False when there was none."""
        try:
            self.path_for(gateway).unlink()
        except FileNotFoundError:
            return False
        return True


def _flag(value: Any) -> bool | None:
    return value if isinstance(value, bool) else None
