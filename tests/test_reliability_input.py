"""Every input a person can type or point goatui at: one line and exit 2, memory bounded.

In-process (the `cli` fixture) against a loopback gateway that records every request,
so "nothing was sent" is checked, not assumed.
"""

from __future__ import annotations

import io
import json
import os
import stat
import sys
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from helpers.cli import Ran, one_line
from helpers.gateway_server import ADMIN_TOKEN, GatewayServer

from goatui.core.config import load_config, save_setting
from goatui.core.errors import UsageError

CLI = Callable[..., Ran]


@pytest.fixture
def gateway(gw: GatewayServer, monkeypatch: pytest.MonkeyPatch) -> Iterator[list[str]]:
    """`--gateway URL` options for a loopback gateway that knows $GOATFLOW_TOKEN."""
    monkeypatch.setenv("GOATFLOW_TOKEN", ADMIN_TOKEN)
    yield ["--gateway", gw.url]


def refused(ran: Ran, *words: str) -> str:
    """The one line of a run that ended with exit 2, holding every word."""
    assert ran.returncode == 2, ran
    line = one_line(ran.stderr)
    assert all(word in line for word in words), line
    return line


# -- typed on the command line ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (["call", "alpha", "echo", "caf\udce9"], ["argument 6 is not UTF-8", "0xe9"]),
        (["call", "alpha", "echo\udcff"], ["argument 5 is not UTF-8", "0xff"]),
        (["call", "alpha", "echo", '{"a": NaN}'], ["column 7", "NaN is not JSON"]),
        (["call", "alpha", "echo", "[1, -Infinity]"], ["-Infinity is not JSON"]),
        (["call", "alpha", "echo", '{"big": 1e400}'], ["1e400 is too large"]),
        (["call", "alpha", "echo", '{"s": "\\ud800"}'], ["column 8", "\\ud800 is half"]),
        (["call", "alpha", "echo", '["\\udc00 alone"]'], ["\\udc00 is half"]),
        (["--timeout", "nan", "ls"], ["--timeout", "not nan"]),
        (["--timeout", "inf", "ls"], ["--timeout", "not inf"]),
        (["--timeout", "1e309", "ls"], ["--timeout", "not inf"]),
        (["--timeout", "-1", "ls"], ["--timeout", "more than 0"]),
        (["--timeout", "1e6", "ls"], ["--timeout", "at most 86400"]),
        (["--max-message-mb", "4096", "ls"], ["--max-message-mb", "1 to 2047"]),
        (["--max-message-mb", "0", "ls"], ["--max-message-mb", "not 0"]),
        (["--max-message-mb", "1e3", "ls"], ["not a whole number of MiB"]),
        (["logs", "--for", "nan"], ["--for", "not nan"]),
        (["health", "--wait", "inf"], ["--wait", "not inf"]),
        (["health", "--interval", "0"], ["--interval", "more than 0"]),
        (["audit", "--limit", "9" * 30], ["--limit", "0 to 1000000"]),
        (["audit", "--limit", "9" * 5000], ["--limit", "not a whole number"]),
        (["widget", "alpha", "w", "--width", "1000000000"], ["--width", "1 to 10000"]),
        (["x\n\x1b[2Jy"], ["\\n\\x1b[2Jy"]),  # argparse quotes it: one safe line
    ],
)
def test_bad_values_get_one_line_and_exit_2_and_send_nothing(
    args: list[str], words: list[str], gateway: list[str], gw: GatewayServer, cli: CLI
) -> None:
    refused(cli(*gateway, *args), *words)
    assert gw.state.requests == []


def test_a_socket_path_that_can_never_be_a_socket_is_refused(tmp_path: Path, cli: CLI) -> None:
    loop = tmp_path / "loop.sock"
    loop.symlink_to(tmp_path / "other.sock")
    (tmp_path / "other.sock").symlink_to(loop)
    refused(cli("call", "a", "f", "--socket", str(loop)), "Too many levels of symbolic links")
    refused(cli("ls", "--socket", "/tmp/" + "x" * 120), "longer than the 107 bytes")
    file = tmp_path / "file"
    file.write_text("")
    refused(cli("ls", "--socket", f"{file}/x.sock"), "Not a directory")


# -- read against a limit ----------------------------------------------------------------


class Endless(io.RawIOBase):
    """A stream that never ends (what `yes | goatui call … -` is), counting what was read."""

    def __init__(self) -> None:
        self.served = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        buffer[:] = b"7" * len(buffer)
        self.served += len(buffer)
        return len(buffer)


def test_endless_inputs_are_read_to_the_limit_and_refused(
    gateway: list[str], gw: GatewayServer, tmp_path: Path, cli: CLI, monkeypatch: pytest.MonkeyPatch
) -> None:
    mb = ["--max-message-mb", "1"]
    refused(
        cli(*gateway, *mb, "call", "alpha", "echo", "@/dev/zero"), "args file /dev/zero", "1 MiB"
    )
    endless = Endless()
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BufferedReader(endless)))
    refused(cli(*gateway, *mb, "call", "alpha", "echo", "-"), "stdin", "larger than the 1 MiB")
    assert endless.served < 2 * 1024 * 1024  # it stopped reading at the limit
    refused(cli("--config", "/dev/zero", "audit"), "config /dev/zero", "1 MiB limit")
    # Literal args past the limit are the args' fault, not the result's.
    big = json.dumps({"blob": "x" * (1024 * 1024)})
    refused(cli(*gateway, *mb, "call", "alpha", "echo", big), "the args are larger than the 1 MiB")
    assert gw.state.requests == []


def test_a_token_fifo_fed_forever_is_refused(gw: GatewayServer, tmp_path: Path, cli: CLI) -> None:
    fifo = tmp_path / "token"
    os.mkfifo(fifo, 0o600)
    done = threading.Event()

    def feed() -> None:
        try:
            with open(fifo, "wb") as out:
                while not done.is_set():
                    out.write(b"a" * 65536)
        except OSError:  # the reader left: that is the point
            pass

    writer = threading.Thread(target=feed, daemon=True)
    writer.start()
    try:
        refused(
            cli("--gateway", gw.url, "--token-file", str(fifo), "ls"), "too large to be a token"
        )
    finally:
        done.set()
        writer.join(5)
    assert gw.state.requests == []


def test_an_audit_failure_never_loses_the_result(
    gateway: list[str], tmp_path: Path, cli: CLI
) -> None:
    audit = tmp_path / "state" / "goatui" / "audit.jsonl"
    audit.mkdir(parents=True)  # cannot be opened for appending
    ran = cli(*gateway, "call", "alpha", "echo", '{"k": "v"}')
    assert ran.returncode == 0 and json.loads(ran.stdout) == {"k": "v"}
    assert "warning: audit log" in one_line(ran.stderr)


def test_audit_and_history_lines_carry_lone_surrogates_as_escapes(tmp_path: Path) -> None:
    from goatui.core.audit import AuditLog, record
    from goatui.core.calls.history import History, HistoryEntry

    log = AuditLog(tmp_path / "audit.jsonl")
    assert record("invoke", "p/f\ud800", args={"k": "\udce9"}, log=log) is None
    assert log.read()[0].args == {"k": "\udce9"}
    history = History(tmp_path / "history.jsonl")
    history.append(HistoryEntry.make("p", "f", '{"k": "\ud800"}', 1.0, 2.0, "ok"))
    assert History(history.path).entries()[0].args == '{"k": "\ud800"}'


# -- the config file -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("toml", "words"),
    [
        ("sockets = [1, 2]", ["sockets[0] must be a string, not an integer"]),
        ('globs = "/tmp/*.sock"', ["globs must be a list of strings, not a string"]),
        ("timeout = nan", ["timeout must be a number of seconds", "not nan"]),
        ("timeout = inf", ["timeout", "not inf"]),
        ("probe_interval = 0", ["probe_interval", "more than 0"]),
        ('timeout = "30"', ["timeout must be a number of seconds, not a string"]),
        ("max_message_mb = 4096", ["max_message_mb", "1 to 2047"]),
        ("max_message_mb = 1.5", ["max_message_mb must be a whole number of MiB, not a float"]),
        ("log_buffer = 1000000000000", ["log_buffer", "1 to 1000000"]),
        ("read_only = 1", ["read_only must be true or false, not an integer"]),
        ("theme = 1979-05-27", ["theme must be a string, not a date or time"]),
        ("plugins = 1", ["plugins must be tables [plugins.NAME], not an integer"]),
        ("[plugins.x]\nk = [1]", ["[plugins.x] k must be a string", "not a list"]),
        ("[plugins]\nx = 1", ["[plugins.x] must be a table, not an integer"]),
        ('[contexts.c]\nsockets = ["a", 2]', ["[contexts.c]: sockets[1] must be a string"]),
        ('[contexts.c]\ngateway = "http://x"\ninsecure = "yes"', ["insecure must be true"]),
        ("colour = true", ["unknown key 'colour'"]),
        ("timeout = [", ["not valid TOML"]),
    ],
)
def test_config_values_of_the_wrong_type_get_one_line(
    toml: str, words: list[str], tmp_path: Path, cli: CLI
) -> None:
    config = tmp_path / "config.toml"
    config.write_text(toml + "\n")
    refused(cli("--config", str(config), "--context", "c", "ls"), *words)


def test_plugin_values_are_taken_as_toml_spells_them(tmp_path: Path) -> None:
    config = tmp_path / "config.toml"
    config.write_text("[plugins.x]\nport = 8080\nratio = 0.5\ndebug = true\nname = 'n'\n")
    assert load_config(config).plugins == {
        "x": {"port": "8080", "ratio": "0.5", "debug": "true", "name": "n"}
    }


def test_the_theme_is_written_back_with_the_rest_of_the_file_kept(tmp_path: Path) -> None:
    """The old line editor added a second `theme` beside a quoted `"theme"`, and the
    next start failed; now a TOML library rewrites it, atomically, 0600."""
    config = tmp_path / "config.toml"
    original = (
        "# my settings\n"
        '"theme" = "nord"  # the one I like\n'
        "timeout = 5.0\n\n"
        "[contexts.prod]\n"
        'gateway = "https://goatflow.example.com"\n'
    )
    config.write_text(original)
    config.chmod(0o644)
    save_setting("theme", 'gruvbox "dark"', config)
    loaded = load_config(config)
    assert loaded.theme == 'gruvbox "dark"' and loaded.timeout == 5.0
    text = config.read_text()
    assert text.count("theme") == 1 and "# my settings" in text and "[contexts.prod]" in text
    assert stat.S_IMODE(config.stat().st_mode) == 0o600
    assert sorted(p.name for p in tmp_path.iterdir()) == ["config.toml"]  # no temp file left
    fresh = tmp_path / "new" / "config.toml"
    save_setting("theme", "nord", fresh)
    assert load_config(fresh).theme == "nord"
    broken = tmp_path / "broken.toml"
    broken.write_text("theme = [\n")
    with pytest.raises(UsageError, match="not valid TOML"):
        save_setting("theme", "nord", broken)
    assert broken.read_text() == "theme = [\n"  # left as it was


# -- the history file's lock ---------------------------------------------------------------


def test_two_goatuis_share_the_history_file_without_losing_lines(tmp_path: Path) -> None:
    """Two History objects on one file stand for two consoles (each keeps its own view).
    Compaction re-reads the file under the audit log's lock (goatui.core.filelock); the
    old one wrote back its own view, dropping the other console's newer calls."""
    from goatui.core.calls.history import History, HistoryEntry

    path = tmp_path / "history.jsonl"
    first, second = History(path, limit=20), History(path, limit=20)

    def call(history: History, tag: str, i: int) -> None:
        history.append(HistoryEntry.make(tag, str(i), "{}", float(i), 1.0, "ok"))

    for i in range(5):
        call(first, "first", i)
    for i in range(5):
        call(second, "second", i)
    for i in range(5, 31):  # its 31st line is past limit + slack: `first` compacts the file
        call(first, "first", i)
    kept = History(path, limit=100).entries()
    assert len(kept) == 20
    assert [e.function for e in kept if e.plugin == "second"] == []  # older than the newest 20
    for i in range(5, 12):
        call(second, "second", i)
    for i in range(31, 42):
        call(first, "first", i)  # compacts again, with `second`'s calls in the file
    kept = History(path, limit=100).entries()
    assert len(kept) == 20 and kept[-1].function == "41"
    # `second`'s calls are among the newest 20 and stay.
    assert [e.function for e in kept if e.plugin == "second"] == [str(i) for i in range(5, 12)]


# -- manifests -------------------------------------------------------------------------------


def test_manifests_that_are_not_json_or_mistyped_are_noted(
    plugins: Any, tmp_path: Path, cli: CLI
) -> None:
    sent = tmp_path / "sent.json"
    sent.write_text("{not json")
    root = tmp_path / "plugins"
    (root / "broken").mkdir(parents=True)
    (root / "broken" / "manifest.json").write_text("[1, 2")
    (root / "typed").mkdir()
    (root / "typed" / "manifest.json").write_text(
        json.dumps({"name": "typed", "jobs": [{"id": 7, "schedule": 5, "handler": "text"}]})
    )
    broken = plugins.start("broken", TESTPLUGIN_MANIFEST=str(sent))
    typed = plugins.start("typed")
    where = [
        "--plugins-dir",
        str(root),
        "--socket",
        str(broken.socket),
        "--socket",
        str(typed.socket),
    ]
    ran = cli(*where, "ls")
    assert ran.returncode == 0, ran.stderr
    line = next(row for row in ran.stdout.splitlines() if row.startswith("broken"))
    assert "the manifest it sent is not JSON (Expecting property name" in line
    assert "broken/manifest.json: not a valid manifest: not JSON" in line
    rows = json.loads(cli(*where, "ls", "--json").stdout)
    assert "not JSON" in rows[0]["manifest_error"] and rows[1]["manifest_error"] is None
    jobs = json.loads(cli(*where, "jobs", "--json").stdout)
    assert jobs[0]["id"] == "7" and jobs[0]["schedule"] == "5"
    assert jobs[0]["error"] == (
        "schedule must be a string, not a number (5); id must be a string, not a number (7)"
    )
    assert "empty schedule" not in cli(*where, "jobs").stdout


# -- generated input -------------------------------------------------------------------------

# Nothing real is contacted: a socket that is not there, no gateway, no console, no demo.
NOWHERE = ["--socket", "/nonexistent-goatui-test/goatflow-plugin-x.sock"]
COMMANDS = ["ls", "call", "logs", "jobs", "job", "widget", "health", "audit", "enable", "disable"]
OPTIONS = [
    "--timeout",
    "--max-message-mb",
    "--limit",
    "--for",
    "--interval",
    "--width",
    "--level",
    "--grep",
    "--query",
    "--sort",
    "--plugin",
    "--token",
    "--db",
    "--print-command",
    "--json",
    "--html",
    "--yes",
    "-q",
    "--help",
]
NASTY = [
    "nan",
    "-inf",
    "1e309",
    "0",
    "-1",
    "4096",
    "9" * 40,
    "",
    "{}",
    '{"a": NaN}',
    '["\\ud800"]',
    "@/dev/null",
    "@/nonexistent",
    "-",
    "$[",
    "(",
    "x\udce9",
    "\x1b]0;t\x07\n",
]


def _values() -> Any:
    from hypothesis import strategies as st

    return st.one_of(
        st.sampled_from(NASTY),
        st.text(st.characters(codec=None, exclude_categories=()), max_size=12),
        st.integers(-(2**70), 2**70).map(str),
        st.floats().map(str),
    )


def _argv() -> Any:
    from hypothesis import strategies as st

    option = st.tuples(st.sampled_from(OPTIONS), _values()).map(list)
    return st.tuples(
        st.sampled_from(COMMANDS),
        st.lists(_values(), max_size=3),
        st.lists(option, max_size=3),
    ).map(lambda parts: [parts[0], *parts[1], *(w for pair in parts[2] for w in pair)])


def _toml_documents() -> Any:
    from hypothesis import strategies as st

    from goatui.core.config import SETTINGS

    scalar = st.one_of(
        st.text(max_size=8),
        st.integers(-(2**63), 2**63 - 1),
        st.floats(),
        st.booleans(),
        st.datetimes(),
        st.dates(),
    )
    value = st.recursive(
        scalar,
        lambda inner: (
            st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3)
        ),
        max_leaves=8,
    )
    keys = st.sampled_from([*SETTINGS, "colour", "sockets "])
    return st.dictionaries(keys, value, max_size=4)


def test_generated_command_lines_get_an_exit_code_and_at_most_one_line(
    cli: CLI, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Exit 0-4, never a traceback; when not 0, one line on stderr at most (`health`
    reports an unreachable plugin in its table, on stdout)."""
    from hypothesis import HealthCheck, given, settings

    monkeypatch.setattr(sys, "stdin", io.StringIO('{"k": 1}'))

    @settings(max_examples=100, deadline=None, suppress_health_check=list(HealthCheck))
    @given(_argv())
    def run(argv: list[str]) -> None:
        ran = cli(*argv, *NOWHERE)
        assert 0 <= ran.returncode <= 4, (argv, ran)
        assert "Traceback" not in ran.stderr, (argv, ran.stderr)
        if ran.returncode and ran.stderr:
            one_line(ran.stderr)

    run()


def test_generated_config_files_load_or_get_one_line(tmp_path: Path, cli: CLI) -> None:
    """Any TOML document (wrong types, NaN, dates, nested tables), and any text at all."""
    import tomlkit
    from hypothesis import HealthCheck, assume, given, settings
    from hypothesis import strategies as st

    from goatui.core.backends.contexts import available_contexts

    path = tmp_path / "config.toml"

    def check(text: str) -> None:
        path.write_text(text, encoding="utf-8", errors="surrogatepass")
        try:
            available_contexts(load_config(path))
        except UsageError as exc:
            assert "\n" not in exc.line()
        ran = cli("--config", str(path), *NOWHERE, "audit", "--json")
        assert ran.returncode in (0, 2), ran
        assert "Traceback" not in ran.stderr
        if ran.returncode:
            one_line(ran.stderr)

    @settings(max_examples=80, deadline=None, suppress_health_check=list(HealthCheck))
    @given(_toml_documents())
    def documents(document: dict[str, Any]) -> None:
        try:
            text = tomlkit.dumps(document)
        except Exception:
            assume(False)
        check(text)

    @settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck))
    @given(st.text(max_size=60))
    def any_text(text: str) -> None:
        check(text)

    documents()
    any_text()


# -- the environment and files a person points goatui at ------------------------------------


def test_environment_values_that_are_not_utf8_get_one_line_or_just_work(
    plugins: Any, tmp_path: Path
) -> None:
    """Bytes that are not UTF-8 in the variables goatui reads (the child decodes them as
    Python does, with surrogate escapes): a URL or a token is refused in one line,
    exit 2; a state dir or a zone is simply used."""
    from helpers.cli import run_goatui

    bad = os.fsdecode(b"\xff\xfe")
    ran = run_goatui("ls", env={"GOATFLOW_URL": f"http://{bad}"})
    assert ran.returncode == 2 and "invalid gateway URL" in one_line(ran)
    ran = run_goatui("--gateway", "http://127.0.0.1:9", "ls", env={"GOATFLOW_TOKEN": bad})
    assert ran.returncode == 2 and "$GOATFLOW_TOKEN is not a bearer token" in one_line(ran)
    alpha = plugins.start("alpha")
    state = tmp_path / os.fsdecode(b"state-\xff")
    ran = run_goatui(
        "call", "alpha", "echo", "{}", "--socket", str(alpha.socket),
        env={"XDG_STATE_HOME": str(state), "TZ": bad},
    )  # fmt: skip
    assert (ran.returncode, ran.stderr) == (0, "")
    assert (state / "goatui" / "audit.jsonl").is_file()
    ran = run_goatui("jobs", "--socket", str(alpha.socket), env={"TZ": bad})
    assert ran.returncode == 0 and "Traceback" not in ran.stderr


def test_a_manifest_file_past_its_limit_is_noted_not_read(
    plugins: Any, tmp_path: Path, cli: CLI
) -> None:
    from goatui.core.backends.sockets.discovery import MAX_MANIFEST_BYTES

    big = tmp_path / "plugins" / "big"
    big.mkdir(parents=True)
    with (big / "manifest.json").open("wb") as file:
        file.truncate(MAX_MANIFEST_BYTES + 1)  # sparse: nothing is written
    running = plugins.start("big")
    ran = cli("--plugins-dir", str(tmp_path / "plugins"), "--socket", str(running.socket), "ls")
    assert ran.returncode == 0, ran.stderr
    line = next(row for row in ran.stdout.splitlines() if row.startswith("big"))
    assert "big/manifest.json: " in line and "larger than 8 MiB" in line, line


def test_a_gateway_url_with_a_space_or_a_control_character_is_refused(cli: CLI) -> None:
    """httpx refused it with a traceback (a control character), or goatui tried to
    resolve a host with a space in it."""
    for url in ("http://a b", "http://a\x01b", "http://ok.example\x1b[2J"):
        ran = cli("--gateway", url, "ls")
        assert ran.returncode == 2 and "invalid gateway URL" in one_line(ran.stderr), ran
        assert "\x1b" not in ran.stderr
