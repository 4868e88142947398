"""The committed WASM modules match their C source.

Rebuilding needs the wasm32 toolchain (`make wasm-toolchain`: clang, lld, wasi-libc and
the wasm32 builtins); without it, or with another clang than the one that built the
committed modules, the comparison is skipped (CI installs the toolchain, so it runs
there). Nothing else in goatui needs the toolchain: the committed .wasm files are used.
"""

from __future__ import annotations

import glob
import re
import shutil
import subprocess
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
DEMO = REPO / "goatui" / "demo" / "wasm" / "ticket-stats.wasm"
MODULES = [DEMO, REPO / "tests" / "wasm" / "command.wasm", REPO / "tests" / "wasm" / "reactor.wasm"]


def _clang_version(text: str) -> str | None:
    match = re.search(r"clang version (\d+\.\d+\.\d+)", text)
    return match.group(1) if match else None


def _built_by(module: Path) -> str | None:
    """The clang version in the module's producers section ("clang", a length, "14.0.6")."""
    match = re.search(rb"clang.(\d+\.\d+\.\d+)", module.read_bytes(), re.DOTALL)
    return match.group(1).decode() if match else None


def _toolchain_problem() -> str | None:
    if shutil.which("make") is None:
        return "make is not installed"
    if shutil.which("clang") is None or shutil.which("wasm-ld") is None:
        return "clang and wasm-ld are not installed (make wasm-toolchain)"
    if not Path("/usr/lib/wasm32-wasi/libc.a").exists():
        return "wasi-libc is not installed (make wasm-toolchain)"
    if not glob.glob("/usr/lib/llvm-*/lib/clang/*/lib/wasi/libclang_rt.builtins-wasm32.a"):
        return "the wasm32 compiler-rt builtins are not installed (make wasm-toolchain)"
    ours = _clang_version(
        subprocess.run(["clang", "--version"], capture_output=True, text=True).stdout
    )
    theirs = _built_by(DEMO)
    if ours != theirs:
        return f"the committed modules were built by clang {theirs}, this machine has {ours}"
    return None


def test_committed_modules_match_their_source(tmp_path: Path) -> None:
    problem = _toolchain_problem()
    if problem:
        pytest.skip(problem)
    result = subprocess.run(
        ["make", "-s", "wasm-demo", f"WASM_OUT={tmp_path}"],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    stale = [
        str(module.relative_to(REPO))
        for module in MODULES
        if (tmp_path / module.relative_to(REPO)).read_bytes() != module.read_bytes()
    ]
    assert stale == [], "run `make wasm-demo` and commit the rebuilt modules"
