"""One `goatui call` from the shell vs a bare Python script making the same call with grpcio.

Both run as the operator would run them: the installed `goatui` entry point and
`python script.py`, each a fresh process, timed from spawn to exit, alternately.
Both get support.bench_env: among others a private bytecode cache, warmed first (an
installed goatui has its .pyc files; this tree often runs without writing them).
"""

from __future__ import annotations

import shutil
import sys
import tempfile
from pathlib import Path

from benchmarks.support import Result, bench_env, interleaved_processes, running_plugins

GOAL = 1.05  # issue #19 (1.3x in the first round)

BARE_CALL = """
import sys
import grpc
from goatui.proto import plugin_pb2, plugin_pb2_grpc
channel = grpc.insecure_channel("unix://" + sys.argv[1])
stub = plugin_pb2_grpc.PluginServiceStub(channel)
response = stub.Call(plugin_pb2.CallRequest(function="echo", args=b'{"a": 1}'), timeout=30)
sys.stdout.write(response.result.decode() + "\\n")
"""


def goatui_command() -> list[str]:
    """The `goatui` entry point next to this interpreter (what the shell runs)."""
    script = Path(sys.executable).parent / "goatui"
    if script.exists():
        return [str(script)]
    found = shutil.which("goatui")
    return [found] if found else [sys.executable, "-m", "goatui"]


def run(repeat: int = 21) -> Result:
    with running_plugins(1) as [socket], tempfile.TemporaryDirectory() as tmp:
        # No PYTHONPATH: the installed package is found as the operator's shell finds it.
        env = bench_env(Path(tmp), NO_COLOR="1")
        script = Path(tmp) / "bare_call.py"
        script.write_text(BARE_CALL)
        goatui = [*goatui_command(), "call", "p000", "echo", '{"a": 1}', "--socket", str(socket)]
        bare = [sys.executable, str(script), str(socket)]
        ours, baseline = interleaved_processes(goatui, bare, env, repeat)
    ratio = ours / baseline
    return Result(
        "one `goatui call` from the shell (process start to exit)",
        f"{ours * 1000:.0f} ms",
        f"{baseline * 1000:.0f} ms (bare grpcio script)",
        ratio,
        f"<= {GOAL:g}x",
        ratio <= GOAL,
    )
