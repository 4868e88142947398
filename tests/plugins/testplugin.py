"""A real plugin process for the tests, its behaviour chosen by environment variables.

TESTPLUGIN_NAME      registered name (default "testplugin")
TESTPLUGIN_HEALTH    "plugin" (default: health for service "plugin" and ""), "overall"
                     (only ""), or "none" (no grpc.health.v1 service at all)
TESTPLUGIN_MANIFEST  path of a manifest.json to send in RegisterResponse.manifest (a
                     file that is not JSON is sent as it is)
TESTPLUGIN_VERSION   version to register (default "9.9.9")
TESTPLUGIN_DESCRIPTION  description to register (default "test plugin NAME")
TESTPLUGIN_HOSTILE   text mixed into every error, log message and field, widget and
                     result (to prove none of it reaches a terminal as a command)
TESTPLUGIN_FLAP      "1": flip health between SERVING and NOT_SERVING as fast as the
                     process can (a Health.Watch flood)
TESTPLUGIN_FLEET     N: serve N plugins NAME-1 … NAME-N, each on its own socket beside
                     GOATFLOW_PLUGIN_SOCKET (goatflow-plugin-NAME-I.sock), from this one
                     process: killing it takes them all down at once
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path
from typing import Any

from goatui.demo.kit import Plugin, PluginFailure

HOSTILE = os.environ.get("TESTPLUGIN_HOSTILE", "")


def echo(args: dict[str, Any], plugin: Plugin) -> Any:
    return args


def fail(args: dict[str, Any], plugin: Plugin) -> Any:
    raise PluginFailure(args.get("message", "it broke") + HOSTILE)


def slow(args: dict[str, Any], plugin: Plugin) -> Any:
    """Sleep; `mark` names a file created once the call is in the handler."""
    if args.get("mark"):
        Path(str(args["mark"])).touch()
    time.sleep(float(args.get("seconds", 5)))
    return {"slept": args.get("seconds", 5)}


def plugin_error(args: dict[str, Any], plugin: Plugin) -> Any:
    """A failure the way GoatFlow's own plugins report one: a result {"error": ...}."""
    return {"error": args.get("message", "it failed") + HOSTILE}


def empty(args: dict[str, Any], plugin: Plugin) -> bytes:
    """No result at all: zero bytes."""
    return b""


def set_health(args: dict[str, Any], plugin: Plugin) -> Any:
    plugin.set_health(bool(args.get("serving", True)))
    return {"serving": bool(args.get("serving", True))}


def big(args: dict[str, Any], plugin: Plugin) -> bytes:
    size = int(float(args.get("mb", 8)) * 1024 * 1024)
    return b'{"data": "' + b"x" * size + b'"}'


def binary(args: dict[str, Any], plugin: Plugin) -> bytes:
    return b"\xff\xfe\x00\x01goat\x1b[31m"


def text(args: dict[str, Any], plugin: Plugin) -> bytes:
    """The text, `repeat` times (a 10 MB single line from a few bytes of args)."""
    return (str(args.get("text", "plain text")) * int(args.get("repeat", 1))).encode()


def nested(args: dict[str, Any], plugin: Plugin) -> bytes:
    """JSON arrays nested `depth` levels deep."""
    depth = int(args.get("depth", 100_000))
    return b"[" * depth + b"]" * depth


def hostile(args: dict[str, Any], plugin: Plugin) -> Any:
    msg = "\x1b[2J\x1b]0;pwned\x07[bold red]markup[/]\x9b31m" + HOSTILE
    return {"msg": msg, "bell": "\x07", HOSTILE or "key": HOSTILE}


def log(args: dict[str, Any], plugin: Plugin) -> Any:
    count = int(args.get("count", 1))
    level = args.get("level", "info")
    extra = {"hostile" + HOSTILE: HOSTILE} if HOSTILE else {}
    sent = sum(plugin.log(level, f"line {i}{HOSTILE}", seq=i, **extra) for i in range(count))
    return {"sent": sent}


def widget_json(args: dict[str, Any], plugin: Plugin) -> Any:
    return {"html": "<h2>Hello</h2><p>from <b>json</b></p>"}


def widget_raw(args: dict[str, Any], plugin: Plugin) -> bytes:
    return b"<ul><li>raw one</li><li>raw two</li></ul>"


def widget_hostile(args: dict[str, Any], plugin: Plugin) -> Any:
    """Widget HTML carrying escape sequences, C1 controls and Rich markup in its text."""
    title = "<h3>\x1b]0;pwned\x07Title</h3>"
    return {"html": title + f"<p>\x1b[2J[bold red]markup[/] \x9b31m<b>kept</b>{HOSTILE}</p>"}


def widget_counter(args: dict[str, Any], plugin: Plugin) -> Any:
    """A widget whose content changes on every call (to see refreshes land)."""
    global _widget_calls
    _widget_calls += 1
    return {"html": f"<p>call {_widget_calls}</p>"}


_widget_calls = 0


def widget_long(args: dict[str, Any], plugin: Plugin) -> Any:
    """A widget with a paragraph long enough to wrap at any terminal width."""
    return {"html": "<p>" + " ".join(f"word{i}" for i in range(60)) + "</p>"}


def has_host(args: dict[str, Any], plugin: Plugin) -> Any:
    """Whether anyone has called SetHost on this plugin."""
    return {"host": plugin.host is not None}


def host(args: dict[str, Any], plugin: Plugin) -> Any:
    """Make one HostService call: {"method": "CacheGet", "request": {...}}."""
    import grpc
    from google.protobuf.json_format import MessageToDict

    from goatui.proto import plugin_pb2

    if plugin.host is None:
        return {"ok": False, "code": "NO_HOST", "details": ""}
    method = str(args["method"])
    request = dict(args.get("request", {}))
    if "value" in request:
        request["value"] = str(request["value"]).encode()
    message_type = {"Log": "LogRequest", "CacheDelete": "CacheDeleteRequest"}.get(
        method, f"{method}Request"
    )
    message = getattr(plugin_pb2, message_type)(**request)
    try:
        response = getattr(plugin.host, method)(message, timeout=10)
    except grpc.RpcError as exc:
        return {"ok": False, "code": exc.code().name, "details": exc.details()}
    result = MessageToDict(response, preserving_proto_field_name=True)
    if method == "CacheGet" and response.found:
        result["value"] = response.value.decode()
    if method == "DBQuery":
        result["rows"] = json.loads(response.rows)
    return {"ok": True, "response": result}


def emit(args: dict[str, Any], plugin: Plugin) -> Any:
    """Print lines to stdout and stderr (a launched plugin's output goes to the logs)."""
    import sys

    count = int(args.get("count", 1))
    for i in range(count):
        print(f"out {i}", flush=True)
        print(f"err {i}", file=sys.stderr, flush=True)
    return {"printed": count}


def crash(args: dict[str, Any], plugin: Plugin) -> Any:
    """Exit with the given code shortly after answering."""
    import threading

    threading.Timer(0.1, os._exit, [int(args.get("code", 3))]).start()
    return {"exiting": True}


def spawn(args: dict[str, Any], plugin: Plugin) -> Any:
    """Start a long-lived child process (to check it dies with the plugin)."""
    import subprocess

    child = subprocess.Popen(["sleep", "60"])
    return {"pid": child.pid}


def flood(args: dict[str, Any], plugin: Plugin) -> Any:
    """Host calls in bulk: `logs` Log calls of `log_kb` KiB each, then `cache` CacheSet
    calls of `cache_kb` KiB each (distinct keys); how many were taken and refused."""
    import grpc

    from goatui.proto import plugin_pb2

    assert plugin.host is not None
    counts = {"logged": 0, "log_refused": 0, "cached": 0, "cache_refused": 0}
    message = "x" * (int(args.get("log_kb", 1)) * 1024)
    for _ in range(int(args.get("logs", 0))):
        try:
            plugin.host.Log(plugin_pb2.LogRequest(level="info", message=message), timeout=10)
            counts["logged"] += 1
        except grpc.RpcError:
            counts["log_refused"] += 1
    value = b"v" * (int(args.get("cache_kb", 1)) * 1024)
    for i in range(int(args.get("cache", 0))):
        request = plugin_pb2.CacheSetRequest(key=f"k{i}", value=value, ttl=0)
        try:
            plugin.host.CacheSet(request, timeout=10)
            counts["cached"] += 1
        except grpc.RpcError:
            counts["cache_refused"] += 1
    return counts


HANDLERS = {
    "echo": echo,
    "fail": fail,
    "plugin_error": plugin_error,
    "empty": empty,
    "slow": slow,
    "set_health": set_health,
    "big": big,
    "binary": binary,
    "text": text,
    "nested": nested,
    "hostile": hostile,
    "log": log,
    "widget_json": widget_json,
    "widget_raw": widget_raw,
    "widget_hostile": widget_hostile,
    "widget_counter": widget_counter,
    "widget_long": widget_long,
    "has_host": has_host,
    "host": host,
    "emit": emit,
    "crash": crash,
    "spawn": spawn,
    "flood": flood,
}


class TestPlugin(Plugin):
    raw_manifest: bytes | None = None  # sent instead of the manifest when it is not JSON

    def Register(self, request: Any, context: Any) -> Any:
        response = super().Register(request, context)
        if self.raw_manifest is not None:
            response.manifest = self.raw_manifest
        return response


def flap(plugin: Plugin) -> None:
    """Flip health for ever, as fast as the health servicer takes it."""
    serving = True
    while True:
        serving = not serving
        plugin.set_health(serving)


def serve_fleet(count: int, name: str, make: Any) -> None:
    """count plugins in this process, each with its own gRPC server and socket; SIGTERM
    removes every socket (they vanish), SIGKILL leaves them (they stop answering)."""
    import signal

    directory = Path(os.environ["GOATFLOW_PLUGIN_SOCKET"]).parent
    paths = [directory / f"goatflow-plugin-{name}-{i}.sock" for i in range(1, count + 1)]
    servers = [make(f"{name}-{i}").start(str(path)) for i, path in enumerate(paths, 1)]
    stopping: list[int] = []
    signal.signal(signal.SIGTERM, lambda signum, frame: stopping.append(signum))
    while not stopping:
        time.sleep(0.1)
    for path in paths:
        path.unlink(missing_ok=True)
    for server in servers:
        server.stop(grace=None)
    os._exit(0)


def main() -> None:
    name = os.environ.get("TESTPLUGIN_NAME", "testplugin")
    health_mode = os.environ.get("TESTPLUGIN_HEALTH", "plugin")
    manifest_path = os.environ.get("TESTPLUGIN_MANIFEST")
    document = Path(manifest_path).read_bytes() if manifest_path else b""
    try:
        manifest, raw = (json.loads(document) if document else None), None
    except ValueError:
        manifest, raw = None, document

    def make(name: str) -> Plugin:
        plugin = TestPlugin(
            name,
            os.environ.get("TESTPLUGIN_VERSION", "9.9.9"),
            os.environ.get("TESTPLUGIN_DESCRIPTION", f"test plugin {name}"),
            HANDLERS,
            manifest=manifest,
            health_service=health_mode != "none",
            health_names=("",) if health_mode == "overall" else ("plugin", ""),
        )
        plugin.raw_manifest = raw
        return plugin

    fleet = int(os.environ.get("TESTPLUGIN_FLEET", "0"))
    if fleet:
        serve_fleet(fleet, name, make)
        return
    plugin = make(name)
    if os.environ.get("TESTPLUGIN_FLAP") == "1":
        import threading

        threading.Thread(target=flap, args=(plugin,), daemon=True).start()
    plugin.serve()


if __name__ == "__main__":
    main()
