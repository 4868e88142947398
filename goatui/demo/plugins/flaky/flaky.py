"""A plugin having a bad day, so every state can be seen in the console.

Its health flips between SERVING and NOT_SERVING every few seconds; `work` is sometimes
slow and sometimes fails; it fills RegisterResponse.manifest itself (the other way a
plugin's manifest reaches goatui) and answers its widget as {"html": ...}.
"""

from __future__ import annotations

import json
import random
import threading
import time
from pathlib import Path
from typing import Any

from goatui.demo.kit import Plugin, PluginFailure

MANIFEST = json.loads((Path(__file__).parent / "manifest.json").read_text())
FLIP_EVERY_S = 12.0
started = time.monotonic()
calls = {"ok": 0, "failed": 0}


def status(args: dict[str, Any], plugin: Plugin) -> Any:
    return {"uptime_s": round(time.monotonic() - started, 1), "calls": calls}


def work(args: dict[str, Any], plugin: Plugin) -> Any:
    roll = random.random()
    if roll < 0.25:
        calls["failed"] += 1
        plugin.log("error", "upstream refused the work", attempt=str(calls["failed"]))
        raise PluginFailure("upstream refused: 503 Service Unavailable")
    if roll < 0.5:
        time.sleep(random.uniform(1.0, 3.0))
    calls["ok"] += 1
    plugin.log("info", "work done", items=str(args.get("items", 1)))
    return {"done": True, "items": args.get("items", 1)}


def render_status(args: dict[str, Any], plugin: Plugin) -> Any:
    rows = "".join(f"<tr><td>{k}</td><td>{v}</td></tr>" for k, v in calls.items())
    return {
        "html": "<h3>Flaky status</h3><p>Health flips every "
        f"<b>{FLIP_EVERY_S:.0f}s</b>.</p><table><thead><tr><th>outcome</th><th>calls</th>"
        f"</tr></thead><tbody>{rows}</tbody></table>"
    }


def sync(args: dict[str, Any], plugin: Plugin) -> Any:
    plugin.log("warn", "sync started against a slow upstream")
    time.sleep(random.uniform(0.5, 2.0))
    return {"synced": random.randint(0, 50)}


def cleanup(args: dict[str, Any], plugin: Plugin) -> Any:
    return {"removed": 0}


def flap(plugin: Plugin) -> None:
    serving = True
    while True:
        time.sleep(FLIP_EVERY_S)
        serving = not serving
        plugin.set_health(serving)
        plugin.log(
            "warn" if not serving else "info",
            f"health now {'SERVING' if serving else 'NOT_SERVING'}",
        )


if __name__ == "__main__":
    flaky = Plugin(
        "flaky",
        "0.3.1",
        "Health flaps, calls are slow or fail",
        {
            "status": status,
            "work": work,
            "render_status": render_status,
            "sync": sync,
            "cleanup": cleanup,
        },
        manifest=MANIFEST,
    )
    threading.Thread(target=flap, args=(flaky,), daemon=True).start()
    flaky.serve()
