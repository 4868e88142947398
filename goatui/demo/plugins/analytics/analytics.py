"""The tutorial's analytics plugin, in Python: reports, a summary widget, a daily job.

Like the tutorial's plugin it leaves RegisterResponse.manifest empty: goatui finds its
manifest.json in the plugins dir. It reaches its host (Log, DBQuery, CacheSet) once
SetHost has told it where the host is.
"""

from __future__ import annotations

import datetime
import json
import random
from typing import Any

from goatui.demo.kit import Plugin, PluginFailure

REPORTS = [
    {"id": "ticket-volume", "name": "Ticket Volume", "description": "Daily ticket creation trends"},
    {
        "id": "resolution-time",
        "name": "Resolution Time",
        "description": "Average time to resolve tickets",
    },
    {
        "id": "agent-performance",
        "name": "Agent Performance",
        "description": "Tickets handled per agent",
    },
]


def list_reports(args: dict[str, Any], plugin: Plugin) -> Any:
    return REPORTS


def _volume(days: int) -> list[dict[str, Any]]:
    today = datetime.date.today()
    rng = random.Random(today.toordinal())
    return [
        {"date": (today - datetime.timedelta(days=d)).isoformat(), "count": rng.randint(20, 80)}
        for d in range(days, 0, -1)
    ]


def get_report(args: dict[str, Any], plugin: Plugin) -> Any:
    report_id = args.get("id", "ticket-volume")
    if report_id not in {r["id"] for r in REPORTS}:
        raise PluginFailure(f"unknown report: {report_id}")
    return {"id": report_id, "rows": _volume(30)}


def run_report(args: dict[str, Any], plugin: Plugin) -> Any:
    report_id = args.get("id", "")
    plugin.log("info", "Running report", report_id=report_id)
    if report_id == "ticket-volume":
        data: Any = _volume(7)
    elif report_id == "resolution-time":
        data = {"avg_hours": 18.5, "p90_hours": 41.0}
    else:
        raise PluginFailure(f"unknown report: {report_id}")
    return data


def render_summary(args: dict[str, Any], plugin: Plugin) -> bytes:
    # The tutorial's Go example returns raw HTML bytes, not {"html": ...}.
    today = _volume(2)
    delta = today[1]["count"] - today[0]["count"]
    return f"""
<div class="grid grid-cols-4 gap-4">
  <div class="stat bg-base-200 rounded-lg p-4">
    <div class="stat-title">Today's Tickets</div>
    <div class="stat-value">{today[1]["count"]}</div>
    <div class="stat-desc">{delta:+d} from yesterday</div>
  </div>
  <div class="stat bg-base-200 rounded-lg p-4">
    <div class="stat-title">Avg Resolution</div>
    <div class="stat-value">18.5h</div>
    <div class="stat-desc">Target: 24h</div>
  </div>
  <div class="stat bg-base-200 rounded-lg p-4">
    <div class="stat-title">Open Tickets</div>
    <div class="stat-value">127</div>
    <div class="stat-desc">Across all queues</div>
  </div>
  <div class="stat bg-base-200 rounded-lg p-4">
    <div class="stat-title">SLA Compliance</div>
    <div class="stat-value">94%</div>
    <div class="stat-desc">Last 7 days</div>
  </div>
</div>""".encode()


def generate_daily_report(args: dict[str, Any], plugin: Plugin) -> Any:
    plugin.log("info", "Generating daily analytics report")
    report = {"generated_at": datetime.datetime.now().astimezone().isoformat(), "reports": REPORTS}
    plugin.log("debug", "daily report ready", size=len(json.dumps(report)))
    return report


if __name__ == "__main__":
    Plugin(
        "analytics",
        "1.0.0",
        "Advanced ticket analytics",
        {
            "list_reports": list_reports,
            "get_report": get_report,
            "run_report": run_report,
            "render_summary": render_summary,
            "generate_daily_report": generate_daily_report,
        },
    ).serve()
