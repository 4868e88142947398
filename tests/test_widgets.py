"""Plugin widgets: the core (listing, layout, status lines) and `goatui widget` against
real plugin processes, for both result forms GoatFlow accepts."""

from __future__ import annotations

import json
import os
import pty
import subprocess
import sys
from datetime import UTC, datetime
from typing import Any

import pytest
from helpers.cli import one_line
from rich.console import Console

from goatui.core.errors import NotFound, Unreachable
from goatui.core.models import Manifest, PluginInfo
from goatui.core.sanitize import UNSAFE_CODEPOINTS
from goatui.core.widgets.dashboard import (
    DEFAULT_REFRESH_S,
    MIN_REFRESH_S,
    HtmlAtWidth,
    WidgetListing,
    WidgetRender,
    WidgetSpec,
    group_by_location,
    pack_rows,
    status_line,
    widgets_from,
)

WIDGETS: list[dict[str, Any]] = [
    {"id": "hello", "title": "Hello", "handler": "widget_json", "size": "medium"},
    {"id": "raw", "title": "Raw", "handler": "widget_raw", "size": "small"},
    {"id": "broken", "title": "Broken", "handler": "echo", "size": "small"},
    {"id": "evil", "title": "Evil", "handler": "widget_hostile", "location": "admin_home"},
    {"id": "long", "title": "Long", "handler": "widget_long", "size": "full"},
    {"id": "sleepy", "title": "Sleepy", "handler": "slow"},
]


@pytest.fixture(scope="module")
def wdg(module_plugins: Any, tmp_path_factory: pytest.TempPathFactory) -> Any:
    path = tmp_path_factory.mktemp("widgets") / "manifest.json"
    path.write_text(json.dumps({"name": "wdg", "version": "9.9.9", "widgets": WIDGETS}))
    return module_plugins.start("wdg", TESTPLUGIN_MANIFEST=str(path))


@pytest.fixture(scope="module")
def bare(module_plugins: Any) -> Any:
    """A plugin that sends no manifest."""
    return module_plugins.start("bare")


@pytest.fixture
def goatui(cli: Any, monkeypatch: pytest.MonkeyPatch) -> Any:
    """conftest's in-process CLI (stdout is a file, not a terminal): `goatui("widget", …)`."""
    monkeypatch.delenv("NO_COLOR", raising=False)
    monkeypatch.delenv("COLUMNS", raising=False)
    return cli


def clean(text: str) -> bool:
    return not any(ord(ch) in UNSAFE_CODEPOINTS for ch in text)


# --- core ------------------------------------------------------------------------------


def plugin(name: str, widgets: list[dict[str, Any]] | None, error: str = "") -> PluginInfo:
    manifest = None if widgets is None else Manifest.parse({"widgets": widgets}, "plugin")
    return PluginInfo(name=name, target=f"/tmp/{name}.sock", manifest=manifest, error=error)


def test_spec_defaults_and_checks() -> None:
    spec = WidgetSpec.from_manifest("p", {"id": "w"})
    assert (spec.title, spec.location, spec.size, spec.refreshable) == (
        "w",
        "dashboard",
        "medium",
        False,
    )
    assert spec.refresh_s is None
    odd = WidgetSpec.from_manifest(
        "p",
        {"id": "w", "size": "HUGE", "refreshable": "yes", "refresh_sec": 5, "order": "1"},
    )
    assert (odd.size, odd.refreshable, odd.refresh_s, odd.order) == ("medium", False, None, 0)
    assert WidgetSpec.from_manifest("p", {"id": "w", "refreshable": True}).refresh_s == (
        DEFAULT_REFRESH_S
    )
    fast = WidgetSpec.from_manifest("p", {"id": "w", "refreshable": True, "refresh_sec": 0})
    assert fast.refresh_s == MIN_REFRESH_S
    flag = WidgetSpec.from_manifest("p", {"id": "w", "refreshable": True, "refresh_sec": True})
    assert flag.refresh_s == DEFAULT_REFRESH_S
    assert WidgetSpec.from_manifest("p", {"id": "w", "size": " Large "}).size == "large"


def test_listing_sorts_groups_and_packs() -> None:
    plugins = [
        plugin("zeta", [{"id": "z", "location": "admin_home", "order": -1}]),
        plugin(
            "alpha",
            [
                {"id": "no-id-skipped", "title": "x"} | {"id": ""},
                {"id": "b", "size": "large"},
                {"id": "a", "size": "small", "order": 0},
                {"id": "c", "size": "medium", "order": 5},
            ],
        ),
        plugin("bare", None),
    ]
    specs = widgets_from(plugins)
    assert [(s.plugin, s.id) for s in specs] == [
        ("zeta", "z"),
        ("alpha", "b"),
        ("alpha", "a"),
        ("alpha", "c"),
    ]
    groups = group_by_location(specs)
    assert [name for name, _ in groups] == ["dashboard", "admin_home"]
    rows = pack_rows(groups[0][1])
    # large (8) + small (4) fill a row; medium (6) wraps to the next.
    assert [[s.id for s in row] for row in rows] == [["b", "a"], ["c"]]


def test_find_explains_what_is_missing() -> None:
    listing = WidgetListing(
        plugins=[
            plugin("alpha", [{"id": "one"}, {"id": "two"}]),
            plugin("bare", None),
            plugin("down", None, error="connection refused"),
        ],
        widgets=widgets_from([plugin("alpha", [{"id": "one"}, {"id": "two"}])]),
    )
    assert listing.find("alpha", "two").id == "two"
    with pytest.raises(NotFound, match="'one', 'two'"):
        listing.find("alpha", "three")
    with pytest.raises(NotFound, match="goatui call bare HANDLER"):
        listing.find("bare", "w")
    with pytest.raises(NotFound, match=r"unknown plugin 'nope' \(known: alpha, bare, down\)"):
        listing.find("nope", "w")
    with pytest.raises(Unreachable):
        listing.find("down", "w")


def test_status_line_fits_its_width() -> None:
    spec = WidgetSpec.from_manifest(
        "inventory", {"id": "w", "size": "large", "refreshable": True, "refresh_sec": 30}
    )
    at = datetime(2026, 1, 2, 12, 3, 4, tzinfo=UTC).timestamp()
    ok = WidgetRender(spec, at, html="<p>x</p>", duration_ms=4.2)
    full = status_line(spec, ok, UTC)
    assert full == "large · updated 12:03:04 · 4 ms · every 30 s · inventory"
    assert status_line(spec, ok, UTC, width=40) == "large · updated 12:03:04 · 4 ms"
    assert status_line(spec, ok, UTC, width=16) == "12:03:04 · 4 ms"
    failed = WidgetRender(spec, at, error="boom", duration_ms=2000)
    assert status_line(spec, failed, UTC, width=30) == "failed 12:03:04 · 2.00 s"
    assert status_line(spec, None, UTC, fetching=True, width=20) == "large · loading…"
    assert "refreshing…" in status_line(spec, ok, UTC, fetching=True)
    frozen = status_line(spec, ok, UTC, duration=lambda ms: "N ms")
    assert "· N ms ·" in frozen
    hostile = WidgetSpec.from_manifest("\x1b[2Jevil", {"id": "w"})
    assert clean(status_line(hostile, None, UTC))


def test_html_follows_the_width_it_is_given() -> None:
    content = HtmlAtWidth("<p>" + "word " * 40 + "</p><ul><li>" + "item " * 20 + "</li></ul>")

    def lines(width: int) -> list[str]:
        console = Console(width=width, record=True, file=open(os.devnull, "w"))  # noqa: SIM115
        console.print(content)
        return console.export_text().splitlines()

    narrow, wide = lines(30), lines(70)
    assert max(len(line) for line in narrow) <= 30
    assert max(len(line) for line in wide) > 30
    assert len(narrow) > len(wide)
    assert content.at(30) is content.at(30)  # cached: a repaint does not parse again


# --- the CLI -------------------------------------------------------------------------------


def test_json_result_form(goatui: Any, wdg: Any) -> None:
    ran = goatui("widget", "wdg", "hello", "--socket", str(wdg.socket))
    assert ran.returncode == 0, ran.stderr
    assert ran.stdout.splitlines() == ["Hello", "", "from json"]
    assert "\x1b" not in ran.stdout


def test_raw_html_result_form(goatui: Any, wdg: Any) -> None:
    ran = goatui("widget", "wdg", "raw", "--socket", str(wdg.socket))
    assert ran.returncode == 0, ran.stderr
    assert ran.stdout.splitlines() == ["• raw one", "• raw two"]


def test_neither_form_is_exit_1_with_the_raw_start(goatui: Any, wdg: Any) -> None:
    ran = goatui("widget", "wdg", "broken", "--socket", str(wdg.socket))
    assert ran.returncode == 1
    line = one_line(ran.stderr)
    assert "neither" in line and line.endswith("it starts: {}")
    assert ran.stdout == ""


def test_html_flag_prints_the_html_inert(goatui: Any, wdg: Any) -> None:
    ran = goatui("widget", "wdg", "hello", "--html", "--socket", str(wdg.socket))
    assert ran.stdout == "<h2>Hello</h2><p>from <b>json</b></p>\n"
    ran = goatui("widget", "wdg", "evil", "--html", "--socket", str(wdg.socket))
    assert ran.returncode == 0
    assert clean(ran.stdout)
    assert "\\x1b]0;pwned\\x07" in ran.stdout and "\\x9b31m" in ran.stdout


def test_hostile_html_is_rendered_inert(goatui: Any, wdg: Any) -> None:
    ran = goatui("widget", "wdg", "evil", "--socket", str(wdg.socket))
    assert ran.returncode == 0
    assert clean(ran.stdout)
    assert "[bold red]markup[/]" in ran.stdout and "kept" in ran.stdout


def test_width(goatui: Any, wdg: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    ran = goatui("widget", "wdg", "long", "--width", "24", "--socket", str(wdg.socket))
    assert ran.returncode == 0
    assert max(len(line) for line in ran.stdout.splitlines()) <= 24
    assert len(ran.stdout.splitlines()) > 10
    # Without --width: the terminal's width (COLUMNS here), else 80.
    default = goatui("widget", "wdg", "long", "--socket", str(wdg.socket))
    assert 70 < max(len(line) for line in default.stdout.splitlines()) <= 80
    monkeypatch.setenv("COLUMNS", "40")
    ran = goatui("widget", "wdg", "long", "--socket", str(wdg.socket))
    assert 30 < max(len(line) for line in ran.stdout.splitlines()) <= 40
    # argparse refuses it: usage, exit 2 (its SystemExit, caught by the runner)
    refused = goatui("widget", "wdg", "long", "--width", "0", "--socket", str(wdg.socket))
    assert refused.returncode == 2


def test_unknown_widget_lists_the_plugins_widgets(goatui: Any, wdg: Any) -> None:
    ran = goatui("widget", "wdg", "nope", "--socket", str(wdg.socket))
    assert ran.returncode == 2
    line = one_line(ran.stderr)
    assert "no widget 'nope'" in line and "'hello', 'raw', 'broken'" in line


def test_unknown_plugin_and_plugin_without_manifest(goatui: Any, wdg: Any, bare: Any) -> None:
    sockets = ["--socket", str(wdg.socket), "--socket", str(bare.socket)]
    ran = goatui("widget", "ghost", "w", *sockets)
    assert ran.returncode == 2
    assert "unknown plugin 'ghost' (known: bare, wdg)" in one_line(ran.stderr)
    ran = goatui("widget", "bare", "w", *sockets)
    assert ran.returncode == 2
    line = one_line(ran.stderr)
    assert "no manifest" in line and "goatui call bare HANDLER" in line


def test_timeout_is_exit_3(goatui: Any, wdg: Any) -> None:
    ran = goatui("widget", "wdg", "sleepy", "--timeout", "0.3", "--socket", str(wdg.socket))
    assert ran.returncode == 3
    assert "timed out" in one_line(ran.stderr)


def test_colour_on_a_terminal_and_no_textual(wdg: Any) -> None:
    """A real pseudo-terminal: ANSI styles (SGR only) reach it; textual is never imported."""
    code = (
        "import sys\n"
        "from goatui.cli import main\n"
        f"rc = main(['widget', 'wdg', 'hello', '--socket', {str(wdg.socket)!r}])\n"
        "assert 'textual' not in sys.modules, 'the CLI imported textual'\n"
        "sys.exit(rc)\n"
    )
    leader, follower = pty.openpty()
    env = {k: v for k, v in os.environ.items() if k not in ("NO_COLOR", "COLUMNS")}
    env["TERM"] = "xterm-256color"
    process = subprocess.Popen(
        [sys.executable, "-c", code], stdout=follower, stderr=subprocess.PIPE, env=env
    )
    os.close(follower)
    chunks = []
    while True:
        try:
            chunk = os.read(leader, 4096)
        except OSError:  # EIO: the child closed the terminal
            break
        if not chunk:
            break
        chunks.append(chunk)
    os.close(leader)
    assert process.wait(30) == 0, process.stderr.read() if process.stderr else ""
    out = b"".join(chunks).decode()
    assert "\x1b[1m" in out or "\x1b[1;" in out  # the heading is bold
    assert "Hello" in out and "from" in out


def test_through_the_gateway(goatui: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    from helpers.gateway_server import ADMIN_TOKEN, GatewayServer

    monkeypatch.setenv("GOATFLOW_TOKEN", ADMIN_TOKEN)
    with GatewayServer() as gw:
        ran = goatui("widget", "alpha", "summary", "--gateway", gw.url)
        assert ran.returncode == 0, ran.stderr
        assert ran.stdout.splitlines() == ["Tickets", "", "42 open"]
        ran = goatui("widget", "alpha", "nope", "--gateway", gw.url)
        assert ran.returncode == 2
        assert "'summary'" in one_line(ran.stderr)
