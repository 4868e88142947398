"""One `goatui --wasm F call` from the shell vs a bare script that instantiates the same
module with wasmtime and makes the same call (benchmarks/wasm_bare.py).

Both are fresh processes, timed from spawn to exit, alternately; both find compiled code
in their cache (warmed first) and their bytecode cached (support.bench_env).
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
from pathlib import Path

from benchmarks.bench_cli_call import goatui_command
from benchmarks.support import REPO, Result, bench_env, interleaved

MODULE = REPO / "tests" / "wasm" / "command.wasm"
ARGS = '{"a": 1}'


def run(repeat: int = 21) -> Result:
    with tempfile.TemporaryDirectory() as tmp:
        env = bench_env(Path(tmp), NO_COLOR="1", XDG_CACHE_HOME=str(Path(tmp) / "cache"))
        goatui = [*goatui_command(), "--wasm", str(MODULE), "call", "command-test", "echo", ARGS]
        bare = [sys.executable, "-m", "benchmarks.wasm_bare", str(MODULE), "echo", ARGS]

        def run_goatui() -> None:
            subprocess.run(goatui, env=env, check=True, capture_output=True)

        def run_bare() -> None:
            subprocess.run(bare, env=env, cwd=REPO, check=True, capture_output=True)

        for _ in range(2):  # fill the bytecode and compiled-module caches
            run_goatui(), run_bare()
        ours, baseline = interleaved(run_goatui, run_bare, repeat)
    ratio = ours / baseline
    return Result(
        "one `goatui --wasm F call` from the shell (process start to exit)",
        f"{ours * 1000:.0f} ms",
        f"{baseline * 1000:.0f} ms (bare wasmtime script)",
        ratio,
        "<= 1.3x",
        ratio <= 1.3,
    )
