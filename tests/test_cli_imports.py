"""`goatui call` stays light: what it imports, checked in a fresh interpreter (issue #9).

Not a timing test: timings live in `make bench`. This pins the import set, so a new
top-level import in a command module or a core module on the call path shows up here.
"""

from __future__ import annotations

import json
import subprocess
import sys

# Each of these costs a `goatui call` time it has no use for.
NOT_FOR_CALL = (
    "textual",  # the console
    "rich",  # only for colour on a terminal
    "httpx",  # only with a gateway
    "croniter",  # jobs
    "sqlite3",  # the host's DBQuery/DBExec
    "tomllib",  # only when a config file exists
    "tempfile",  # only to write a file (the config, history); imports shutil, random
    "grpc_health.v1",  # probes, not calls (grpc itself imports the bare package)
    "wasmtime",  # only when a WASM plugin is used
    "goatui.core.backends.wasm",
    "goatui.core.hosting.host",
    "goatui.core.hosting.launcher",
    "goatui.core.backends.gateway.rest",
    "goatui.core.jobs.runs",
    "goatui.core.jobs.cron",
    "goatui.core.widgets.html_render",
    "goatui.core.widgets.dashboard",
    "goatui.ui",
)

_SCRIPT = """
import json, sys
from goatui.cli import main
code = main(sys.argv[1:])
sys.stdout.flush()
print(json.dumps(sorted(sys.modules)), file=sys.stderr)
sys.exit(code)
"""


def modules_after(*argv: str) -> set[str]:
    result = subprocess.run(
        [sys.executable, "-c", _SCRIPT, *argv], capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
    return set(json.loads(result.stderr.strip().splitlines()[-1]))


def loaded(modules: set[str], name: str) -> bool:
    return name in modules or any(m.startswith(name + ".") for m in modules)


def test_call_imports_only_what_it_needs(plugins) -> None:
    alpha = plugins.start("alpha")
    modules = modules_after("call", "alpha", "echo", '{"a": 1}', "--socket", str(alpha.socket))
    assert (
        "goatui.core.backends.sockets.client" in modules
    )  # the call really went through the client
    assert [name for name in NOT_FOR_CALL if loaded(modules, name)] == []


def test_command_modules_import_light() -> None:
    """Building the parser imports no command module; parsing a command imports its own
    module only, and none may pull in gRPC or more."""
    code = (
        "import json, sys\n"
        "from goatui.cli.parser import build_parser\n"
        "parser = build_parser()\n"
        "built = sorted(sys.modules)\n"
        "parser.parse_args(['call', 'p', 'f'])\n"
        "print(json.dumps([built, sorted(sys.modules)]))\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    built, parsed = (set(names) for names in json.loads(result.stdout))
    assert [m for m in built if m.startswith("goatui.cli.cmd_")] == []
    assert "shutil" not in built  # argparse's formatters only ask the width to show help
    assert [m for m in parsed if m.startswith("goatui.cli.cmd_")] == ["goatui.cli.cmd_call"]
    heavy = ("grpc", "goatui.core.backends.base", "goatui.core.session", "goatui.cli.common")
    assert [name for name in (*NOT_FOR_CALL, *heavy) if loaded(parsed, name)] == []


def test_every_command_module_imports_light() -> None:
    """What a command's arguments need, for each command: never gRPC or more."""
    from goatui.cli.parser import COMMANDS

    code = (
        "import importlib, json, sys\n"
        f"for module in {sorted({module for module, _ in COMMANDS.values()})!r}:\n"
        "    importlib.import_module('goatui.cli.' + module)\n"
        "print(json.dumps(sorted(sys.modules)))\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    modules = set(json.loads(result.stdout))
    heavy = ("grpc", "goatui.core.backends.base", "goatui.core.session", "goatui.cli.common")
    assert [name for name in (*NOT_FOR_CALL, *heavy) if loaded(modules, name)] == []
