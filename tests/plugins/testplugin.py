"""A real plugin process for the tests, its behaviour chosen by environment variables.

TESTPLUGIN_NAME      registered name (default "testplugin")
TESTPLUGIN_HEALTH    "plugin" (default: health for service "plugin" and ""), "overall"
                     (only ""), or "none" (no grpc.health.v1 service at all)
TESTPLUGIN_MANIFEST  path of a manifest.json to send in RegisterResponse.manifest
"""

from __future__ import annotations

import json
import os
import time
from typing import Any

from goatui.demo.kit import Plugin, PluginFailure


def echo(args: dict[str, Any], plugin: Plugin) -> Any:
    return args


def fail(args: dict[str, Any], plugin: Plugin) -> Any:
    raise PluginFailure(args.get("message", "it broke"))


def slow(args: dict[str, Any], plugin: Plugin) -> Any:
    time.sleep(float(args.get("seconds", 5)))
    return {"slept": args.get("seconds", 5)}


def set_health(args: dict[str, Any], plugin: Plugin) -> Any:
    plugin.set_health(bool(args.get("serving", True)))
    return {"serving": bool(args.get("serving", True))}


def big(args: dict[str, Any], plugin: Plugin) -> bytes:
    size = int(float(args.get("mb", 8)) * 1024 * 1024)
    return b'{"data": "' + b"x" * size + b'"}'


def binary(args: dict[str, Any], plugin: Plugin) -> bytes:
    return b"\xff\xfe\x00\x01goat\x1b[31m"


def text(args: dict[str, Any], plugin: Plugin) -> bytes:
    return str(args.get("text", "plain text")).encode()


def hostile(args: dict[str, Any], plugin: Plugin) -> Any:
    return {"msg": "\x1b[2J\x1b]0;pwned\x07[bold red]markup[/]\x9b31m", "bell": "\x07"}


def log(args: dict[str, Any], plugin: Plugin) -> Any:
    count = int(args.get("count", 1))
    sent = sum(plugin.log(args.get("level", "info"), f"line {i}", seq=i) for i in range(count))
    return {"sent": sent}


def widget_json(args: dict[str, Any], plugin: Plugin) -> Any:
    return {"html": "<h2>Hello</h2><p>from <b>json</b></p>"}


def widget_raw(args: dict[str, Any], plugin: Plugin) -> bytes:
    return b"<ul><li>raw one</li><li>raw two</li></ul>"


HANDLERS = {
    "echo": echo,
    "fail": fail,
    "slow": slow,
    "set_health": set_health,
    "big": big,
    "binary": binary,
    "text": text,
    "hostile": hostile,
    "log": log,
    "widget_json": widget_json,
    "widget_raw": widget_raw,
}


def main() -> None:
    name = os.environ.get("TESTPLUGIN_NAME", "testplugin")
    health_mode = os.environ.get("TESTPLUGIN_HEALTH", "plugin")
    manifest_path = os.environ.get("TESTPLUGIN_MANIFEST")
    manifest = json.loads(open(manifest_path).read()) if manifest_path else None
    plugin = Plugin(
        name,
        "9.9.9",
        f"test plugin {name}",
        HANDLERS,
        manifest=manifest,
        health_service=health_mode != "none",
        health_names=("",) if health_mode == "overall" else ("plugin", ""),
    )
    plugin.serve()


if __name__ == "__main__":
    main()
