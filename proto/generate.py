"""Generate goatui's Python stubs from proto/plugin.proto.

Run with `make proto`. `tests/test_proto.py` runs `generate(tmpdir)` and compares the
output with the committed stubs, so a stale stub fails the tests.
"""

from __future__ import annotations

import sys
from pathlib import Path

PROTO_DIR = Path(__file__).resolve().parent
PACKAGE_DIR = PROTO_DIR.parent / "goatui" / "proto"
STUBS = ("plugin_pb2.py", "plugin_pb2.pyi", "plugin_pb2_grpc.py")


def generate(out_dir: Path) -> None:
    """Write the stubs for plugin.proto into out_dir (imports made package-relative)."""
    import grpc_tools
    from grpc_tools import protoc

    include = Path(grpc_tools.__file__).parent / "_proto"
    out_dir.mkdir(parents=True, exist_ok=True)
    status = protoc.main(
        [
            "protoc",
            f"-I{PROTO_DIR}",
            f"-I{include}",
            f"--python_out={out_dir}",
            f"--pyi_out={out_dir}",
            f"--grpc_python_out={out_dir}",
            str(PROTO_DIR / "plugin.proto"),
        ]
    )
    if status != 0:
        raise SystemExit(f"protoc failed with status {status}")
    # grpc_tools writes `import plugin_pb2`, which only works with the output dir on
    # sys.path; inside a package the import has to be relative.
    grpc_stub = out_dir / "plugin_pb2_grpc.py"
    text = grpc_stub.read_text()
    text = text.replace(
        "import plugin_pb2 as plugin__pb2", "from . import plugin_pb2 as plugin__pb2"
    )
    grpc_stub.write_text(text)


if __name__ == "__main__":
    generate(Path(sys.argv[1]) if len(sys.argv) > 1 else PACKAGE_DIR)
