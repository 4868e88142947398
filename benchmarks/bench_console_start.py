"""Console start to first plugin rows on screen vs a minimal Textual app showing one DataTable.

Both are real processes on a pseudo-terminal (120x40), timed from spawn until the
row's text is written to the terminal: for goatui, the plugin's name in the table
after Register answered (the real `goatui --socket PATH`); for the baseline, the same
text in a DataTable added at mount. Alternated, medians.
"""

from __future__ import annotations

import statistics
import sys
import tempfile
from pathlib import Path

from benchmarks.bench_cli_call import goatui_command
from benchmarks.support import PtyProcess, Result, bench_env, running_fleet

MINIMAL_APP = """
from textual.app import App, ComposeResult
from textual.widgets import DataTable


class Minimal(App):
    def compose(self) -> ComposeResult:
        yield DataTable()

    def on_mount(self) -> None:
        table = self.query_one(DataTable)
        table.add_columns("Name", "Health")
        table.add_row("p000", "SERVING")


Minimal().run()
"""

MARKER = "p000"


def time_to_rows(argv: list[str], env: dict[str, str]) -> float:
    shown = PtyProcess(argv, env, watch=[MARKER])
    try:
        return shown.seen_at(MARKER)
    finally:
        shown.stop()


def run(repeat: int = 11) -> Result:
    with running_fleet(1) as [socket], tempfile.TemporaryDirectory() as tmp:
        env = bench_env(Path(tmp))
        script = Path(tmp) / "minimal_app.py"
        script.write_text(MINIMAL_APP)
        goatui = [*goatui_command(), "--socket", str(socket)]
        minimal = [sys.executable, str(script)]
        time_to_rows(goatui, env), time_to_rows(minimal, env)  # fill the bytecode cache
        ours, baseline = [], []
        for _ in range(repeat):
            ours.append(time_to_rows(goatui, env))
            baseline.append(time_to_rows(minimal, env))
    ours_s, baseline_s = statistics.median(ours), statistics.median(baseline)
    ratio = ours_s / baseline_s
    return Result(
        "console start to first plugin rows on screen",
        f"{ours_s * 1000:.0f} ms",
        f"{baseline_s * 1000:.0f} ms (minimal Textual app, one DataTable)",
        ratio,
        "<= 1.5x",
        ratio <= 1.5,
    )
