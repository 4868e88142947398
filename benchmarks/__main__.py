"""`make bench`: run every benchmark, print a table, record it in docs/PERFORMANCE.md.

Each figure is a ratio against a baseline measured in the same run on the same machine:
absolute times on shared machines are noise.
"""

from __future__ import annotations

import argparse
import importlib
import os
import platform
import sys
import time
import traceback
from pathlib import Path

from benchmarks.support import REPO, Result

BENCHMARKS = [
    "bench_cli_call",
    "bench_client_calls",
    "bench_console_start",
    "bench_fleet",
    "bench_gateway",
    "bench_logs",
    "bench_result_viewer",
    "bench_wasm_cli",
    "bench_wasm_calls",
    "bench_wasm_logs",
]
RESULTS_START = "<!-- results:start -->"
RESULTS_END = "<!-- results:end -->"


def machine() -> str:
    cpus = os.cpu_count()
    memory = ""
    try:
        kib = int(Path("/proc/meminfo").read_text().split()[1])
        memory = f", {kib / 1024 / 1024:.0f} GiB"
    except (OSError, ValueError, IndexError):
        pass
    model = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = f" ({line.split(':', 1)[1].strip()})"
                break
    except OSError:
        pass
    return (
        f"{platform.system()} {platform.machine()}, {cpus} cores{model}{memory}, "
        f"Python {platform.python_version()}"
    )


def table(results: list[Result]) -> str:
    lines = [
        "| what | goatui | baseline (same run) | ratio | goal | met |",
        "|---|---|---|---|---|---|",
    ]
    for r in results:
        ratio = f"{r.ratio:.2f}x" if r.ratio == r.ratio else "-"
        lines.append(
            f"| {r.name} | {r.measured} | {r.baseline} | {ratio} | {r.goal} | "
            f"{'yes' if r.ok else 'NO'}{' — ' + r.note if r.note else ''} |"
        )
    return "\n".join(lines)


def record(results: list[Result], doc: Path) -> None:
    block = (
        f"{RESULTS_START}\n"
        f"Measured {time.strftime('%Y-%m-%d %H:%M %Z')} on {machine()} with `make bench`.\n\n"
        f"{table(results)}\n{RESULTS_END}"
    )
    text = doc.read_text() if doc.exists() else f"# Performance\n\n{RESULTS_START}\n{RESULTS_END}\n"
    start, end = text.index(RESULTS_START), text.index(RESULTS_END) + len(RESULTS_END)
    doc.write_text(text[:start] + block + text[end:])


def main() -> int:
    parser = argparse.ArgumentParser(prog="make bench", description=__doc__)
    parser.add_argument("names", nargs="*", help="run only these benchmarks")
    parser.add_argument("--no-record", action="store_true", help="do not update the doc")
    options = parser.parse_args()
    results = []
    for name in options.names or BENCHMARKS:
        print(f"running {name} ...", file=sys.stderr, flush=True)
        try:
            # A benchmark gives one row, or several (one run measuring related goals).
            measured = importlib.import_module(f"benchmarks.{name}").run()
            results.extend(measured if isinstance(measured, list) else [measured])
        except Exception:
            traceback.print_exc()
            results.append(Result(name, "failed", "-", float("nan"), "-", False, "see the log"))
    print(table(results))
    if not options.no_record and not options.names:
        record(results, REPO / "docs" / "PERFORMANCE.md")
        print("recorded in docs/PERFORMANCE.md", file=sys.stderr)
    return 0 if all(r.ok for r in results) else 1


if __name__ == "__main__":
    raise SystemExit(main())
