"""Every secret goatui holds, and the one scrubber that keeps them out of sight.

A secret is registered the moment goatui reads it: a gateway token from --token-file,
$GOATFLOW_TOKEN or a context's token_file (`gateway.auth`), and any token a sign-in or a
refresh brings (the gateway's token store registers those), and the password of a
sign-in, before it is sent. From then on `scrub`
replaces it, whatever its length, by `***` in a text. The sanitiser scrubs everything it
makes safe to show (stderr lines, `ls` and its notes, results, the console), and the
audit log and the call history scrub what they store: a server that echoes the bearer
token in an error body shows and stores `***`.

A secret is matched as it is, and as JSON and Python's repr would spell it (a token
holding `"` or `\\` appears escaped in JSON output and in error messages). Secrets stay
registered for the life of the process: a token signed out of may still be in a
message about to be shown. No Textual, no I/O.
"""

from __future__ import annotations

import json
import os
import threading
from collections.abc import Mapping

REDACTED = "***"
# The gateway's token in the environment (goatui.core.backends.gateway.auth reads it).
TOKEN_ENV = "GOATFLOW_TOKEN"

# Longest first, so a secret that contains another is replaced whole. Replaced, never
# changed in place: `scrub` reads it without a lock.
_forms: tuple[str, ...] = ()
_lock = threading.Lock()


def register_secret(secret: str) -> None:
    """Keep secret (and the ways it may be spelled in output) out of every text shown."""
    global _forms
    if not secret:
        return
    spellings = {
        secret,
        json.dumps(secret)[1:-1],
        json.dumps(secret, ensure_ascii=False)[1:-1],
        repr(secret)[1:-1],
    }
    with _lock:
        _forms = tuple(sorted(set(_forms) | spellings, key=len, reverse=True))


def register_environment_token(environ: Mapping[str, str] | None = None) -> None:
    """$GOATFLOW_TOKEN is a secret goatui holds even when no gateway is used."""
    env = os.environ if environ is None else environ
    register_secret(env.get(TOKEN_ENV, "").strip())


def scrub(text: str) -> str:
    """text with every registered secret replaced by `***`."""
    for form in _forms:
        if form in text:
            text = text.replace(form, REDACTED)
    return text


def scrub_bytes(data: bytes) -> bytes:
    """data (a binary result, shown as a hexdump) with every registered secret replaced."""
    for form in _forms:
        encoded = form.encode("utf-8", "surrogatepass")
        if encoded in data:
            data = data.replace(encoded, REDACTED.encode())
    return data


def holds_secret(text: str) -> bool:
    """True when text holds a registered secret (for checks; `scrub` removes them)."""
    return any(form in text for form in _forms)


def forget_secrets() -> None:
    """Forget every registered secret: for tests, which run many sign-ins in one process."""
    global _forms
    with _lock:
        _forms = ()
