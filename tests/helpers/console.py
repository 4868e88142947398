"""The console as the operator sees it: a console on real plugins, and what it shows."""

from __future__ import annotations

import asyncio
import io
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from rich.console import Console
from textual.pilot import Pilot
from textual.widgets import Static, TabbedContent

from goatui.ui.app import GoatApp
from goatui.ui.views.invoke import InvokeView
from goatui.ui.widgets.plugin_table import PluginTable
from goatui.ui.widgets.result_viewer import ResultViewer

# For tests that watch states change: probe often, back off little.
FAST_MONITOR: dict[str, float] = {
    "interval": 0.5,
    "discover_interval": 1.0,
    "max_backoff": 1.0,
    "probe_deadline": 2.0,
}
# For the rest: the first probe is immediate; later ones would only keep the app busy
# (Pilot waits for an idle app after every key).
QUIET_MONITOR: dict[str, float] = {"interval": 5.0, "discover_interval": 5.0}


def console_session(*sockets: Path | str, read_only: bool = False) -> Any:
    """A Session on explicit sockets (no globs: nothing outside the test is found)."""
    from goatui.core.backends.sockets.backend import SocketBackend
    from goatui.core.backends.sockets.discovery import Sources
    from goatui.core.config import Config
    from goatui.core.session import Session

    backend = SocketBackend(Sources(sockets=[str(s) for s in sockets]), probe_timeout=0.5)
    return Session(backend=backend, config=Config(), read_only=read_only)


async def eventually(
    condition: Callable[[], object], timeout: float = 5.0, what: str = "condition"
) -> None:
    """Poll condition until it is true; fail after timeout (a functional deadline)."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"{what} not met within {timeout:g}s")
        await asyncio.sleep(0.02)


Eventually = Callable[..., Any]
SIZE = (120, 40)
# -- what the operator sees ------------------------------------------------------------


def table_rows(app: GoatApp) -> dict[str, dict[str, str]]:
    """Every row of the plugins table as {column: plain text}, keyed by the name cell."""
    table = app.query_one(PluginTable)
    columns = [c.key for c in table.columns]
    rows = {}
    for row_key in table.rows:
        cells = [cell.plain for cell in table.get_row(row_key)]
        row = dict(zip(columns, cells, strict=True))
        rows[row["name"]] = row
    return rows


def health_of(app: GoatApp, name: str) -> str:
    return table_rows(app).get(name, {}).get("health", "")


def drawn_row(app: GoatApp, name: str) -> str:
    """The row as the table draws it now, not the data behind it."""
    table = app.query_one(PluginTable)
    lines = [table.render_line(y).text for y in range(table.size.height)]
    return next((line for line in lines if line.strip().startswith(name)), "")


def plain(static: Static) -> str:
    """What a Static shows, as plain text."""
    console = Console(width=200, file=io.StringIO(), color_system=None)
    content = static.content
    if isinstance(content, str):
        return content
    console.print(content)
    return console.file.getvalue()  # type: ignore[attr-defined,no-any-return]


def status_text(app: GoatApp) -> str:
    return plain(app.query_one("#invoke-status", Static)).strip()


def result_text(app: GoatApp) -> str:
    return "\n".join(app.query_one(ResultViewer)._lines)


def notifications(app: GoatApp) -> list[str]:
    """The notices on screen now (they expire: use `record_notices` to keep them all)."""
    return [n.message for n in app._notifications]


def record_notices(app: GoatApp) -> list[tuple[float, str]]:
    """Every notice the app raises from now on, with when (monotonic), expired or not."""
    told: list[tuple[float, str]] = []
    raise_notice = app.notify

    def notify(message: Any, *args: Any, **kwargs: Any) -> None:
        told.append((time.monotonic(), str(message)))
        raise_notice(message, *args, **kwargs)

    app.notify = notify  # type: ignore[method-assign]
    return told


async def until_serving(pilot: Pilot[Any], eventually: Eventually, *names: str) -> None:
    app = pilot.app
    await eventually(
        lambda: all("SERVING" in health_of(app, n) for n in names), 5, f"{names} serving"
    )
    await pilot.pause()


async def open_invoke(pilot: Pilot[Any], eventually: Eventually, name: str) -> InvokeView:
    await until_serving(pilot, eventually, name)
    await pilot.press("i")
    await pilot.pause()
    view = pilot.app.query_one(InvokeView)
    assert pilot.app.query_one(TabbedContent).active == "invoke"
    assert pilot.app.focused is view.function_input
    return view


async def until_view_ready(pilot: Pilot[Any], name: str, timeout: float = 10) -> None:
    """Until the view is composed and shown (`show_view` before its background mount
    prepares it once mounted, and would reset what a test set meanwhile; keys typed
    meanwhile wait for it, values set directly do not)."""
    app = pilot.app
    deadline = time.monotonic() + timeout

    def showing() -> bool:
        return any(w.group == "views" and not w.is_finished for w in app.workers)

    while app._mounted_view(name) is None or showing():
        if time.monotonic() > deadline:
            raise AssertionError(f"the {name} view not ready within {timeout:g}s")
        await pilot.pause(0.05)


async def send(pilot: Pilot[Any], function: str, args: str | None = None) -> None:
    await until_view_ready(pilot, "invoke")
    view = pilot.app.query_one(InvokeView)
    view.function_input.value = function
    if args is not None:
        view.args_area.load_text(args)
    await pilot.press("ctrl+r")
