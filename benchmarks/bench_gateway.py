"""`goatui ls` of a gateway listing 10,000 plugins, and an answer far past the size limit.

The gateway is benchmarks.gateway_server, in its own process.

Listing: `goatui ls --gateway URL` and a bare script (one httpx GET of the same list,
`json.loads`, print each name), each a fresh process timed from spawn to exit,
alternated REPEAT times; medians. Memory: each run's peak RSS (VmHWM, written as the
process ends by a wrapper that runs the same entry point in-process; the peak of a
spawned child otherwise includes its parent's before exec), goatui's with 10,000
plugins minus its own with an empty list: what the answer costs, against the size of
the answer.

Too large: `goatui call` of a handler whose answer is 500 MiB, chunked without a
length (only reading tells its size), with the default 64 MiB limit: it must fail
with exit 1 naming the limit, and peak at no more than the limit plus 100 MiB.
"""

from __future__ import annotations

import statistics
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from benchmarks.bench_cli_call import goatui_command
from benchmarks.support import REPO, Result, bench_env, interleaved_processes

COUNT = 10_000
REPEAT = 11
MEMORY_RUNS = 3
TIME_GOAL = 2.0
MEMORY_GOAL = 3.0  # times the answer's size
LIMIT_MIB = 64  # goatui's default --max-message-mb
HUGE_MIB = 500
HUGE_SLACK_MIB = 100

BARE_LS = """
import json
import sys
import httpx
response = httpx.get(sys.argv[1] + "/api/v1/plugins", timeout=60)
for plugin in json.loads(response.content)["plugins"]:
    print(plugin["name"])
"""

# Runs a Python script (the goatui entry point or the bare one) in this process, then
# writes the process's peak RSS (KiB) to the file named first.
PEAK_WRAPPER = """
import runpy, sys
out, script = sys.argv[1], sys.argv[2]
sys.argv = sys.argv[2:]
try:
    runpy.run_path(script, run_name="__main__")
finally:
    for line in open("/proc/self/status"):
        if line.startswith("VmHWM:"):
            open(out, "w").write(line.split()[1])
"""


@contextmanager
def gateway(count: int) -> Iterator[tuple[str, int]]:
    """The bench gateway listing count plugins: its URL and the list's size in bytes."""
    server = subprocess.Popen(
        [sys.executable, "-m", "benchmarks.gateway_server", str(count)],
        cwd=REPO,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert server.stdout is not None
        url, size = server.stdout.readline().split()
        yield url, int(size)
    finally:
        server.terminate()
        server.wait(10)


def entry_script() -> str:
    """The Python script the `goatui` command runs (for PEAK_WRAPPER)."""
    command = goatui_command()
    return command[0] if command[0] != sys.executable else str(REPO / "goatui" / "__main__.py")


def peak_mib(script: list[str], env: dict[str, str], scratch: Path) -> float:
    """Median peak RSS (MiB) of MEMORY_RUNS runs of a Python script (path first)."""
    out = scratch / "peak"
    peaks = []
    for _ in range(MEMORY_RUNS):
        subprocess.run(
            [sys.executable, "-c", PEAK_WRAPPER, str(out), *script],
            env=env,
            check=True,
            capture_output=True,
        )
        peaks.append(int(out.read_text()) / 1024)
    return statistics.median(peaks)


def listing(env: dict[str, str], scratch: Path) -> Result:
    bare_script = scratch / "bare_ls.py"
    bare_script.write_text(BARE_LS)
    goatui = goatui_command()
    with gateway(COUNT) as (url, size), gateway(0) as (empty_url, _):
        ls = [*goatui, "ls", "--gateway", url]
        bare = [sys.executable, str(bare_script), url]
        ours, baseline = interleaved_processes(ls, bare, env, REPEAT)
        entry = entry_script()
        full = peak_mib([entry, "ls", "--gateway", url], env, scratch)
        empty = peak_mib([entry, "ls", "--gateway", empty_url], env, scratch)
        bare_full = peak_mib([str(bare_script), url], env, scratch)
    ratio = ours / baseline
    answer_mib = size / 1024 / 1024
    cost = (full - empty) / answer_mib
    ok = ratio <= TIME_GOAL and cost <= MEMORY_GOAL
    return Result(
        f"gateway `ls` with {COUNT:,} plugins (process start to exit)",
        f"{ours * 1000:.0f} ms; peak RSS {full:.0f} MiB, {full - empty:.1f} MiB over an "
        f"empty list for a {answer_mib:.1f} MiB answer ({cost:.1f}x)",
        f"{baseline * 1000:.0f} ms, peak RSS {bare_full:.0f} MiB (bare httpx GET, "
        "json.loads, print the names)",
        ratio,
        f"<= {TIME_GOAL:g}x; memory <= {MEMORY_GOAL:g}x the answer",
        ok,
    )


def too_large(env: dict[str, str], scratch: Path) -> Result:
    out = scratch / "peak"
    call = [entry_script(), "call", "plugin-00000", "big", "{}"]
    with gateway(1) as (url, _):
        done = subprocess.run(
            [sys.executable, "-c", PEAK_WRAPPER, str(out), *call, "--gateway", url],
            env=env,
            capture_output=True,
            text=True,
            timeout=300,
        )
    peak = int(out.read_text()) / 1024
    named = f"{LIMIT_MIB} MiB limit" in done.stderr
    ceiling = LIMIT_MIB + HUGE_SLACK_MIB
    ok = done.returncode == 1 and named and peak <= ceiling
    said = done.stderr.strip().splitlines()[-1] if done.stderr.strip() else "(nothing)"
    return Result(
        f"a {HUGE_MIB} MiB gateway answer (chunked, no length) to `goatui call`",
        f"exit {done.returncode}, peak RSS {peak:.0f} MiB; said: {said}",
        "-",
        float("nan"),
        f"refused as it streams in, naming the limit (exit 1); peak <= {ceiling} MiB",
        ok,
    )


def run() -> list[Result]:
    with tempfile.TemporaryDirectory() as tmp:
        env = bench_env(Path(tmp), NO_COLOR="1")
        return [listing(env, Path(tmp)), too_large(env, Path(tmp))]


if __name__ == "__main__":
    for result in run():
        print(result)
