"""The audit log: the file, masking, rotation, and every place that records into it."""

from __future__ import annotations

import json
import os
import stat
import threading
from pathlib import Path

import pytest
from helpers.gateway_server import ADMIN_TOKEN, GatewayServer

from goatui.cli.common import build_session
from goatui.cli.parser import build_parser
from goatui.core import audit
from goatui.core.audit import REDACTED, AuditEntry, AuditLog, audit_path, record, redact
from goatui.core.backends.sockets.backend import SocketBackend
from goatui.core.backends.sockets.discovery import Sources
from goatui.core.config import Config
from goatui.core.errors import NotFound, UsageError
from goatui.core.sanitize import UNSAFE_CODEPOINTS
from goatui.core.session import Session

JWT = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJhbGljZSJ9.c2lnbmF0dXJl"


def entries() -> list[AuditEntry]:
    return AuditLog().read()


def test_record_read_and_private_file(tmp_path: Path) -> None:
    assert record("invoke", "alpha/echo", where="sockets", args=b'{"a": 1}') is None
    assert record("enable", "beta", outcome="error", error="boom", exit_code=4) is None
    path = audit_path()
    assert path == tmp_path / "state" / "goatui" / "audit.jsonl"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    first, second = entries()
    assert (first.action, first.target, first.outcome, first.args) == (
        "invoke",
        "alpha/echo",
        "ok",
        {"a": 1},
    )
    assert first.when.endswith("Z") and "T" in first.when
    assert "@" in first.who
    assert second.outcome_text == "error (exit 4): boom"
    lines = path.read_text().splitlines()
    assert set(json.loads(lines[0])) == {
        "when",
        "who",
        "action",
        "target",
        "outcome",
        "exit_code",
        "error",
        "where",
        "args",
        "args_note",
    }
    # A broken line does not hide the others; limit keeps the newest.
    with path.open("a") as file:
        file.write("{not json\n[1]\n")
    record("stop", "alpha")
    assert [e.action for e in AuditLog().read(limit=2)] == ["enable", "stop"]
    with pytest.raises(ValueError):
        record("explode", "alpha")


def test_secrets_are_masked(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GOATFLOW_TOKEN", "plain-env-token-value")
    args = {
        "user": "alice",
        "password": "hunter2",
        "nested": {"API_Key": {"deep": 1}, "list": [{"authToken": "x"}, "ok"]},
        "note": f"sent Bearer abc.def with {JWT} and plain-env-token-value inside",
    }
    assert redact(args) == {
        "user": "alice",
        "password": REDACTED,
        "nested": {"API_Key": REDACTED, "list": [{"authToken": REDACTED}, "ok"]},
        "note": f"sent Bearer {REDACTED} with {REDACTED} and {REDACTED} inside",
    }
    record("invoke", "a/f", args=json.dumps(args), error=f"failed with {JWT}")
    record("invoke", "a/f", args="x" * (audit.MAX_ARGS_CHARS + 1))
    record("invoke", "a/f", args=b"not json")
    text = audit_path().read_text()
    for secret in ("hunter2", JWT, "plain-env-token-value", "abc.def"):
        assert secret not in text
    masked, big, bad = entries()
    assert masked.error == f"failed with {REDACTED}"
    assert (big.args, big.args_note) == (
        None,
        f"{audit.MAX_ARGS_CHARS + 1} characters of args, not kept",
    )
    assert (bad.args, bad.args_note) == (None, "args are not JSON, not kept")


def test_rotation_keeps_two_files(tmp_path: Path) -> None:
    log = AuditLog(tmp_path / "a" / "audit.jsonl", max_bytes=2048)
    for i in range(40):
        audit.record("invoke", f"p/f{i}", log=log)
    assert log.rotated.exists()
    assert log.path.stat().st_size <= 2048 and log.rotated.stat().st_size <= 2048
    kept = log.read()
    # The newest entries survive, in order, across the two files.
    assert [e.target for e in kept] == [f"p/f{i}" for i in range(40 - len(kept), 40)]
    assert stat.S_IMODE(log.rotated.stat().st_mode) == 0o600


def test_threads_append_whole_lines(tmp_path: Path) -> None:
    log = AuditLog(tmp_path / "audit.jsonl")

    def write(n: int) -> None:
        for i in range(40):
            audit.record("invoke", f"p{n}/f{i}", args={"i": i}, log=log)

    threads = [threading.Thread(target=write, args=(n,)) for n in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    lines = log.path.read_text().splitlines()
    assert len(lines) == 240 and all(AuditEntry.from_line(line) for line in lines)


def test_a_write_failure_is_reported_not_raised(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("")
    problem = record("invoke", "a/f", log=AuditLog(blocker / "audit.jsonl"))
    assert problem is not None and "not written" in problem
    problems: list[str] = []
    broken = AuditLog(blocker / "audit.jsonl")
    with (
        pytest.raises(NotFound),
        audit.audited("stop", "x", on_problem=problems.append, log=broken),
    ):
        raise NotFound("nope")
    assert len(problems) == 1


# -- the places that record ----------------------------------------------------------------


def test_cli_call_and_audit_command(cli, plugins) -> None:  # type: ignore[no-untyped-def]
    alpha = plugins.start("alpha")
    socket = ("--socket", str(alpha.socket))
    assert cli("call", "alpha", "echo", '{"q": 1, "secret": "s3"}', *socket)[0] == 0
    assert cli("call", "alpha", "fail", '{"message": "disk full"}', *socket)[0] == 1
    assert cli("call", "\x1b[31mghost", "echo", *socket)[0] == 2
    ok, failed, unknown = entries()
    assert (ok.action, ok.target, ok.outcome, ok.args) == (
        "invoke",
        "alpha/echo",
        "ok",
        {"q": 1, "secret": REDACTED},
    )
    assert ok.where == "sockets"
    assert (failed.outcome, failed.exit_code) == ("error", 1)
    assert "disk full" in failed.error
    assert (unknown.exit_code, unknown.target) == (2, "\x1b[31mghost/echo")

    code, out, err = cli("audit")
    assert (code, err) == (0, "")
    header, *rows = out.splitlines()
    assert header.split() == ["WHEN", "WHO", "ACTION", "TARGET", "OUTCOME", "WHERE"]
    assert len(rows) == 3 and "error (exit 1)" in rows[1]
    assert "\\x1b[31mghost/echo" in rows[2]
    code, out, _ = cli("audit", "--json", "--limit", "1")
    [last] = json.loads(out)
    assert last["target"] == "\x1b[31mghost/echo" and last["exit_code"] == 2
    for output in (cli("audit")[1], cli("audit", "--json")[1]):
        assert not any(ord(ch) in UNSAFE_CODEPOINTS for ch in output)
    assert cli("audit", "--limit", "-1")[0] == 2


def test_gateway_actions_are_recorded_without_the_token(
    cli, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("GOATFLOW_TOKEN", ADMIN_TOKEN)
    with GatewayServer() as gw:
        url = ("--gateway", gw.url)
        assert cli(*url, "job", "run", "alpha", "nightly")[0] == 0
        assert cli(*url, "disable", "alpha", "--yes")[0] == 0
        assert cli(*url, "enable", "ghost", "--yes")[0] == 2
        assert cli(*url, "call", "alpha", "echo", json.dumps({"token": ADMIN_TOKEN}))[0] == 1
    job, disable, enable, call = entries()
    assert (disable.action, disable.target, disable.outcome, disable.where) == (
        "disable",
        "alpha",
        "ok",
        gw.url,
    )
    assert (enable.action, enable.outcome, enable.exit_code) == ("enable", "error", 2)
    assert (job.action, job.target, job.outcome) == ("job-trigger", "alpha/nightly", "ok")
    assert (call.args, call.exit_code) == ({"token": REDACTED}, 1)  # alpha is disabled now
    assert ADMIN_TOKEN not in audit_path().read_text()


async def test_session_lifecycle_actions(plugins_dir, plugins) -> None:  # type: ignore[no-untyped-def]
    plugins_dir.add("alpha")
    options = build_parser().parse_args(["--launch", "--plugins-dir", str(plugins_dir.root), "ls"])
    session = build_session(options, Config())
    session.enable_launching().stop_grace = 0.3
    await session.start()
    try:
        await session.restart_plugin("alpha")
        await session.stop_plugin("alpha")
        with pytest.raises(UsageError):
            await session.stop_plugin("nonesuch")
    finally:
        await session.close()
    # Attaching the host to a plugin goatui only found.
    beta = plugins.start("beta")
    found = Session(backend=SocketBackend(Sources(sockets=[str(beta.socket)])), config=Config())
    try:
        await found.attach("beta")
    finally:
        await found.close()
    assert [(e.action, e.target, e.outcome) for e in entries()] == [
        ("launch", "alpha", "ok"),
        ("restart", "alpha", "ok"),
        ("stop", "alpha", "ok"),
        ("stop", "nonesuch", "error"),
        ("attach-host", "beta", "ok"),
    ]
    assert session.problems == [] and os.access(audit_path(), os.W_OK)
