"""One job run's result, in the console's result viewer."""

from __future__ import annotations

from datetime import tzinfo

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.widgets import Label

from goatui.core.jobs.runs import JobRun
from goatui.core.jobs.spec import JobSpec
from goatui.core.jobs.zones import in_zone
from goatui.core.sanitize import safe_text
from goatui.ui.screens.dialog import Dialog
from goatui.ui.widgets.result_viewer import ResultViewer


class JobResultScreen(Dialog[None]):
    """A run's result in the console's result viewer."""

    BINDINGS = [Binding("escape,q,v", "close", "Close", id="jobs.result.close")]

    def __init__(self, spec: JobSpec, run: JobRun, zone: tzinfo) -> None:
        super().__init__()
        self.spec = spec
        self.run = run
        self.zone = zone

    def compose(self) -> ComposeResult:
        run = self.run
        at = in_zone(run.started, self.zone).strftime("%Y-%m-%d %H:%M:%S")
        with Vertical(id="job-result-dialog"):
            yield Label(
                Text.assemble(
                    safe_text(f"{self.spec.plugin} · {self.spec.id}", "bold", one_line=True),
                    f" · {at} · ",
                    safe_text(run.summary(), one_line=True),
                ),
                id="job-result-title",
            )
            yield ResultViewer(id="job-result-viewer")
            yield Label("escape closes", id="job-result-hint")

    def on_mount(self) -> None:
        viewer = self.query_one(ResultViewer)
        # A failed run may still have a result: the plugin's own {"error": ...}.
        if self.run.outcome == "ok" or self.run.result_size:
            viewer.show_result(self.run.result_view())
        else:
            viewer.show_message(self.run.detail, placeholder="no result")
        viewer.focus()

    def action_close(self) -> None:
        self.dismiss(None)
