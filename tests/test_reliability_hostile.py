"""Hostile plugin text end to end: every CLI command's output stays free of control codes."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from goatui.core.sanitize import UNSAFE_CODEPOINTS

EVIL = "\x1b]0;pwned\x07\x1b[2J\x9b31m\x90dcs\x9c\x7f[bold red]markup[/]"


def unsafe(text: str) -> list[str]:
    return sorted({f"U+{ord(ch):04X}" for ch in text if ord(ch) in UNSAFE_CODEPOINTS})


def test_every_cli_command_keeps_hostile_plugin_text_inert(plugins: Any, tmp_path: Path) -> None:
    manifest = tmp_path / "manifest.json"
    manifest.write_text(
        json.dumps(
            {
                "name": "evil",
                "widgets": [{"id": "w", "title": "W" + EVIL, "handler": "widget_hostile"}],
                "jobs": [{"id": "j", "schedule": "*/5 * * * *", "handler": "hostile"}],
            }
        )
    )
    name = "evil" + EVIL
    evil = plugins.start(
        "evil",
        TESTPLUGIN_NAME=name,
        TESTPLUGIN_VERSION="1" + EVIL,
        TESTPLUGIN_DESCRIPTION="d" + EVIL,
        TESTPLUGIN_HOSTILE=EVIL,
        TESTPLUGIN_MANIFEST=str(manifest),
    )
    sock = ("--socket", str(evil.socket))
    commands: list[tuple[str, ...]] = [
        ("ls", *sock),
        ("ls", "--json", *sock),
        ("call", name, "hostile", *sock),
        ("call", name, "fail", *sock),
        ("call", name, "text", json.dumps({"text": EVIL}), *sock),
        ("widget", name, "w", *sock),
        ("widget", name, "w", "--html", *sock),
        ("jobs", *sock),
        ("jobs", "--json", *sock),
    ]

    def run(args: tuple[str, ...]) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "goatui", *args],
            capture_output=True,
            text=True,
            timeout=60,
            env=dict(os.environ, NO_COLOR="1"),
        )

    with ThreadPoolExecutor(max_workers=4) as pool:  # fresh interpreters, side by side
        results = list(pool.map(run, commands))
    for args, result in zip(commands, results, strict=True):
        assert "Traceback" not in result.stderr, (args, result.stderr)
        assert unsafe(result.stdout) == [], (args[0], result.stdout[:300])
        assert unsafe(result.stderr) == [], (args[0], result.stderr[:300])
        shown = result.stdout + result.stderr
        assert "pwned" in shown or args[0] == "jobs", (args, shown[:300])
    ls_json = subprocess.run(
        [sys.executable, "-m", "goatui", "ls", "--json", *sock],
        capture_output=True,
        text=True,
        timeout=60,
    )
    (row,) = json.loads(ls_json.stdout)
    assert "[bold red]markup[/]" in row["name"]  # shown literally, not as markup


async def test_every_console_view_keeps_hostile_plugin_text_inert(
    plugins: Any, make_console: Any, eventually: Any, tmp_path: Path
) -> None:
    from helpers.console import SIZE, send, table_rows

    from goatui.core.calls.history import History

    manifest = tmp_path / "manifest.json"
    manifest.write_text(
        json.dumps(
            {
                "name": "evil",
                "routes": [{"method": "POST", "path": "/h" + EVIL, "handler": "hostile"}],
                "widgets": [{"id": "w", "title": "W" + EVIL, "handler": "widget_hostile"}],
                "jobs": [{"id": "j" + EVIL, "schedule": "*/5 * * * *", "handler": "hostile"}],
            }
        )
    )
    evil = plugins.start(
        "evil",
        TESTPLUGIN_NAME="evil" + EVIL,
        TESTPLUGIN_VERSION="1" + EVIL,
        TESTPLUGIN_DESCRIPTION="d" + EVIL,
        TESTPLUGIN_HOSTILE=EVIL,
        TESTPLUGIN_MANIFEST=str(manifest),
    )
    app = make_console(evil)
    screens: list[str] = []
    async with app.run_test(size=SIZE) as pilot:
        await eventually(lambda: any("pwned" in n for n in table_rows(app)), 10, "listed")
        await pilot.pause()
        screens.append(app.export_screenshot())
        name = next(iter(app.ctx.live_plugins())).name
        app.show_view("invoke", name)
        await pilot.pause()
        for done, function in enumerate(("hostile", "fail"), start=1):
            await send(pilot, function, "{}")
            await eventually(lambda n=done: len(History().entries()) == n, 10, function)
            await pilot.pause()
            screens.append(app.export_screenshot())
        for view in ("widgets", "jobs", "logs", "plugins"):
            app.show_view(view)
            await pilot.pause(0.5)
            screens.append(app.export_screenshot())
    for screen in screens:
        assert unsafe(screen) == []
    assert any("pwned" in screen for screen in screens)
    assert any("[bold&#160;red]markup[/]" in s or "[bold red]markup[/]" in s for s in screens)


# Zero-width, joiners, soft hyphen, word joiner, BOM, a tag character, a variation
# selector, a Hangul filler: each drawn as nothing by a terminal.
INVISIBLE = "\u200b\u200c\u200d\u00ad\u2060\ufeff\U000e0041\ufe0f\u3164"


def test_every_field_of_a_gateway_log_entry_is_inert_in_every_format(
    gw: Any, cli: Any, monkeypatch: Any
) -> None:
    """Level, plugin, message, field keys and values, and timestamps out of range: the
    text lines and --json alike carry no control or invisible character."""
    from helpers.gateway_server import ADMIN_TOKEN

    hostile = EVIL + INVISIBLE + "\ud800"  # and a lone surrogate, as JSON can spell it
    entries = [
        {
            "timestamp": stamp,
            "plugin": "p" + hostile,
            "level": "info\x1b]0;PWNED\x07\x1b[2J" + INVISIBLE,
            "message": "m" + hostile,
            "fields": {"k" + hostile: "v" + hostile, "n": 7},
        }
        for stamp in ("0001-01-01T00:00:00+14:00", "9999-12-31T23:59:59-14:00", "later")
    ]
    with gw.state.lock:
        gw.state.logs.extend(entries)
    monkeypatch.setenv("GOATFLOW_TOKEN", ADMIN_TOKEN)
    text = cli("logs", "--gateway", gw.url)
    as_json = cli("logs", "--gateway", gw.url, "--json")
    for ran in (text, as_json):
        assert ran.returncode == 0, ran.stderr
        assert unsafe(ran.stdout + ran.stderr) == []
        assert len(ran.stdout.splitlines()) == 3, ran.stdout
    assert "\\x1b]0;PWNED\\x07" in text.stdout and "\\u200b\\u200c\\u200d\\xad" in text.stdout
    records = [json.loads(line) for line in as_json.stdout.splitlines()]
    assert [r["level"] for r in records] == [e["level"] for e in entries]
    assert records[0]["fields"]["k" + hostile] == "v" + hostile


def test_the_console_log_line_escapes_every_field() -> None:
    from goatui.core.logs import LogStore
    from goatui.ui.views.logs import format_line

    store = LogStore()
    entry = store.add(
        "p" + EVIL, "warn" + EVIL + INVISIBLE, "m" + INVISIBLE, {"k" + EVIL: INVISIBLE}
    )
    line = format_line(entry)
    assert unsafe(line) == [] and "\\u200b" in line and "\\x1b" in line
