"""goatui's CLI run as its own process, and what its errors must look like."""

from __future__ import annotations

import os
import subprocess
import sys
from typing import NamedTuple


class Ran(NamedTuple):
    """What an in-process run of main() gave: unpacks as (code, stdout, stderr) too."""

    returncode: int
    stdout: str
    stderr: str


def run_goatui(
    *args: str,
    stdin: str | None = None,
    timeout: float = 60,
    prefix: tuple[str, ...] = (),
    env: dict[str, str] | None = None,
) -> subprocess.CompletedProcess[str]:
    """goatui as its own process (`python -m goatui`), without colour."""
    return subprocess.run(
        [*prefix, sys.executable, "-m", "goatui", *args],
        input=stdin,
        capture_output=True,
        text=True,
        timeout=timeout,
        env=dict(os.environ, NO_COLOR="1", **(env or {})),
    )


def one_line(result: subprocess.CompletedProcess[str] | str) -> str:
    """The one clean line goatui writes to stderr on an error (never a traceback)."""
    stderr = result if isinstance(result, str) else result.stderr
    lines = stderr.strip().splitlines()
    assert len(lines) == 1, stderr
    assert lines[0].startswith("goatui: ") and "Traceback" not in stderr
    return lines[0]
