"""A call as a command line to copy: `goatui call …`, or `curl` against the gateway.

Both are one line, safe to paste into a POSIX shell: every word is quoted with
shlex.quote, except a word holding control characters, newlines or invisible
reordering characters, which is written as `$'…'` with escapes (bash, zsh, ksh): such
a word would otherwise reach the clipboard and the terminal raw.

Valid JSON args are compacted to one line (the same JSON, without the layout). The
curl line never carries a token: it refers to `$GOATFLOW_TOKEN`, which the shell
fills in when the line is run (double quotes, so it expands; its value is never here).
"""

from __future__ import annotations

import json
import shlex
from collections.abc import Sequence
from urllib.parse import quote

from goatui.core.sanitize import UNSAFE_CODEPOINTS, json_escape

TOKEN_REFERENCE = "$GOATFLOW_TOKEN"
# Unsafe characters inside JSON strings stay JSON escapes (`\u001b`), never raw.
_JSON_ESCAPES = {c: json_escape(c) for c in UNSAFE_CODEPOINTS}
_API_PREFIX = "/api/v1"  # the same as goatui.core.gateway.API_PREFIX, without httpx


def shell_quote(word: str) -> str:
    """One shell word; `$'…'` when the word holds characters that must not appear raw."""
    if not any(ord(ch) in UNSAFE_CODEPOINTS or ch in "\n\t\r" for ch in word):
        return shlex.quote(word)
    out = []
    for ch in word:
        code = ord(ch)
        if ch in "\\'":
            out.append("\\" + ch)
        elif ch == "\n":
            out.append("\\n")
        elif ch == "\t":
            out.append("\\t")
        elif code in UNSAFE_CODEPOINTS or ch == "\r":
            # Bytes, not \u: bash reads \u only in a UTF-8 locale; bytes mean the same
            # character in every locale.
            # (A lone surrogate, which UTF-8 cannot carry, as the bytes Python would use.)
            out.append("".join(f"\\x{b:02x}" for b in ch.encode("utf-8", "surrogatepass")))
        else:
            out.append(ch)
    return "$'" + "".join(out) + "'"


def compact_args(args_text: str) -> str:
    """The args as one line: `{}` when empty, valid JSON compacted, anything else as is."""
    text = args_text.strip()
    if not text:
        return "{}"
    try:
        value = json.loads(text)
        # allow_nan=False: 1e999 would come back as Infinity, which is not JSON.
        compact = json.dumps(value, ensure_ascii=False, separators=(",", ":"), allow_nan=False)
    except (ValueError, RecursionError):
        return text
    return compact.translate(_JSON_ESCAPES)


def as_goatui_call(
    plugin: str,
    function: str,
    args_text: str,
    *,
    sockets: Sequence[str] | None = None,
    gateway: str | None = None,
    context: str | None = None,
    query: str | None = None,
    wasm: Sequence[str] | None = None,
) -> str:
    """`goatui [--context C | --gateway URL | --socket P… | --wasm F…] call PLUGIN
    FUNCTION ARGS`.

    Where the plugins are is spelled out, so the line works for whoever runs it; give
    at most one of context, gateway and sockets or WASM files (context wins, then
    gateway).
    """
    words = ["goatui"]
    if context:
        words += ["--context", context]
    elif gateway:
        words += ["--gateway", gateway]
    else:
        for path in sockets or ():
            words += ["--socket", path]
        for file in wasm or ():
            words += ["--wasm", file]
    words += ["call", plugin, function, compact_args(args_text)]
    if query:
        words += ["--query", query]
    return " ".join(shell_quote(w) for w in words)


def call_url(gateway_url: str, plugin: str, function: str) -> str:
    """`BASE/api/v1/plugins/NAME/call/FN`, names percent-encoded (a `/` in one stays in it)."""
    base = gateway_url.strip().rstrip("/")
    if base.endswith(_API_PREFIX):
        base = base[: -len(_API_PREFIX)]
    return f"{base}{_API_PREFIX}/plugins/{quote(plugin, safe='')}/call/{quote(function, safe='')}"


def as_curl(gateway_url: str, plugin: str, function: str, args_text: str) -> str:
    """The same call as curl against GoatFlow's REST API (GATEWAY_API.md).

    gateway_url should be what `goatui.core.gateway.gateway_base` accepted (it refuses
    URLs with credentials); the token is `$GOATFLOW_TOKEN`, expanded by the shell.
    """
    words = [
        "curl",
        "-sS",
        "-X",
        "POST",
        "-H",
        '"Authorization: Bearer ' + TOKEN_REFERENCE + '"',
        "-H",
        shell_quote("Content-Type: application/json"),
        "--data-binary",
        shell_quote(compact_args(args_text)),
        shell_quote(call_url(gateway_url, plugin, function)),
    ]
    return " ".join(words)
