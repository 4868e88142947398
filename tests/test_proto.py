"""The committed stubs match proto/plugin.proto, and the proto matches PROTOCOL.md."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest

from goatui.proto import plugin_pb2

REPO = Path(__file__).resolve().parent.parent


def load_generator():  # type: ignore[no-untyped-def]
    spec = importlib.util.spec_from_file_location("generate", REPO / "proto" / "generate.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules["generate"] = module
    spec.loader.exec_module(module)
    return module


def test_committed_stubs_are_fresh(tmp_path: Path) -> None:
    pytest.importorskip("grpc_tools")
    generator = load_generator()
    generator.generate(tmp_path)
    for name in generator.STUBS:
        fresh = (tmp_path / name).read_text()
        committed = (REPO / "goatui" / "proto" / name).read_text()
        assert fresh == committed, f"goatui/proto/{name} is stale: run `make proto`"


# Field names and numbers are the wire contract (../shared/reference/PROTOCOL.md).
WIRE = {
    "Empty": {},
    "RegisterResponse": {"name": 1, "version": 2, "description": 3, "manifest": 4},
    "CallRequest": {"function": 1, "args": 2},
    "CallResponse": {"result": 1},
    "SetHostRequest": {"address": 1},
    "LogRequest": {"level": 1, "message": 2, "fields": 3},
    "DBQueryRequest": {"query": 1, "args": 2},
    "DBQueryResponse": {"rows": 1},
    "DBExecRequest": {"query": 1, "args": 2},
    "DBExecResponse": {"affected_rows": 1},
    "CacheGetRequest": {"key": 1},
    "CacheGetResponse": {"value": 1, "found": 2},
    "CacheSetRequest": {"key": 1, "value": 2, "ttl": 3},
    "CacheDeleteRequest": {"key": 1},
    "ConfigGetRequest": {"key": 1},
    "ConfigGetResponse": {"value": 1, "found": 2},
}


def test_wire_contract() -> None:
    descriptor = plugin_pb2.DESCRIPTOR
    assert descriptor.package == "plugin"
    assert descriptor.GetOptions().go_package == "github.com/goatkit/goatflow/pkg/plugin/proto"
    assert set(descriptor.message_types_by_name) == set(WIRE)
    for message, fields in WIRE.items():
        actual = {f.name: f.number for f in descriptor.message_types_by_name[message].fields}
        assert actual == fields, message
    services = {
        name: [m.name for m in service.methods]
        for name, service in descriptor.services_by_name.items()
    }
    assert services == {
        "PluginService": ["Register", "Call", "SetHost"],
        "HostService": [
            "Log",
            "DBQuery",
            "DBExec",
            "CacheGet",
            "CacheSet",
            "CacheDelete",
            "ConfigGet",
        ],
    }
    ttl = descriptor.message_types_by_name["CacheSetRequest"].fields_by_name["ttl"]
    assert ttl.type == ttl.TYPE_INT32
