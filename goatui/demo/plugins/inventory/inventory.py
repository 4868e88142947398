"""An inventory plugin without the grpc.health.v1 service (like many hand-written ones).

goatui still gives it a state: it answers Register, so it is alive, but its health is
UNKNOWN. `blob` returns bytes that are not UTF-8, shown as hex.
"""

from __future__ import annotations

from typing import Any

from goatui.demo.kit import Plugin

ASSETS = [
    {"id": f"srv-{n:03d}", "kind": kind, "site": site}
    for n, (kind, site) in enumerate(
        [("server", "fra1"), ("switch", "fra1"), ("server", "ams2"), ("storage", "ams2")], 1
    )
]


def list_assets(args: dict[str, Any], plugin: Plugin) -> Any:
    kind = args.get("kind")
    return [a for a in ASSETS if kind in (None, a["kind"])]


def blob(args: dict[str, Any], plugin: Plugin) -> bytes:
    return bytes(range(256))


def render_overview(args: dict[str, Any], plugin: Plugin) -> Any:
    items = "".join(f"<li><b>{a['id']}</b> {a['kind']} in <i>{a['site']}</i></li>" for a in ASSETS)
    return {
        "html": f"<h3>Assets</h3><ul>{items}</ul><p>See <a href='https://example.com/cmdb'>CMDB</a>.</p>"
    }


def reindex(args: dict[str, Any], plugin: Plugin) -> Any:
    plugin.log("info", "reindex done", assets=str(len(ASSETS)))
    return {"indexed": len(ASSETS)}


if __name__ == "__main__":
    Plugin(
        "inventory",
        "2.1.0",
        "Asset inventory",
        {
            "list_assets": list_assets,
            "blob": blob,
            "render_overview": render_overview,
            "reindex": reindex,
        },
        health_service=False,
    ).serve()
