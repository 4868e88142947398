"""The CLI as scripts use it: a real subprocess, real plugins, exit codes and output."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from helpers.cli import run_goatui as goatui

from goatui.core.sanitize import UNSAFE_CODEPOINTS


def assert_one_clean_line(stderr: str) -> None:
    lines = stderr.strip().splitlines()
    assert len(lines) == 1, stderr
    assert lines[0].startswith("goatui: ")
    assert "Traceback" not in stderr


def test_version() -> None:
    from goatui import __version__

    result = goatui("--version")
    assert result.returncode == 0
    assert result.stdout.strip() == f"goatui {__version__}"


def test_ls_json(plugins) -> None:
    alpha = plugins.start("alpha")
    beta = plugins.start("beta", TESTPLUGIN_HEALTH="none")
    result = goatui("ls", "--json", "--socket", str(alpha.socket), "--socket", beta.target)
    assert result.returncode == 0, result.stderr
    rows = {row["name"]: row for row in json.loads(result.stdout)}
    assert rows["alpha"]["health"] == "SERVING"
    assert rows["alpha"]["version"] == "9.9.9"
    assert rows["alpha"]["latency_ms"] > 0
    assert rows["alpha"]["target"] == str(alpha.socket)
    assert rows["beta"]["health"] == "UNKNOWN"


def test_ls_sorts_by_name_health_or_latency(plugins) -> None:
    from goatui.core.models import SORT_ORDERS

    gamma = plugins.start("gamma")
    alpha = plugins.start("alpha")
    beta = plugins.start("beta", TESTPLUGIN_HEALTH="none")
    gamma.kill()
    sockets = [a for p in (gamma, alpha, beta) for a in ("--socket", str(p.socket))]

    def names(order: str) -> list[str]:
        result = goatui("ls", "--json", "--sort", order, *sockets)
        assert result.returncode == 0, result.stderr
        return [row["name"] for row in json.loads(result.stdout)]

    assert names("name") == ["alpha", "beta", "gamma"]
    assert names("health") == ["gamma", "beta", "alpha"]  # UNREACHABLE, UNKNOWN, SERVING
    assert names("latency")[-1] == "gamma"  # nothing measured: last
    refused = goatui("ls", "--sort", "size", *sockets)
    assert refused.returncode == 2 and "invalid choice: 'size'" in refused.stderr
    # The parser keeps its own copy of the orders (it must not import the models).
    assert "{" + ",".join(SORT_ORDERS) + "}" in goatui("ls", "--help").stdout


def test_sort_key_orders() -> None:
    from goatui.core.models import sort_key

    plugins = [("b", "SERVING", 5.0), ("a", "NOT_SERVING", None), ("c", "GONE", 9.0)]
    assert [p[0] for p in sorted(plugins, key=lambda p: sort_key("name", *p))] == ["a", "b", "c"]
    # Worst first; the monitor's own words (PENDING, GONE) after every live state.
    assert [p[0] for p in sorted(plugins, key=lambda p: sort_key("health", *p))] == [
        "a",
        "b",
        "c",
    ]
    assert [p[0] for p in sorted(plugins, key=lambda p: sort_key("latency", *p))] == [
        "c",
        "b",
        "a",
    ]


def test_ls_unreachable_has_null_latency(plugins) -> None:
    alpha = plugins.start("alpha")
    alpha.kill()
    result = goatui("ls", "--json", "--socket", str(alpha.socket))
    [row] = json.loads(result.stdout)
    assert row["health"] == "UNREACHABLE"
    assert row["latency_ms"] is None
    assert row["name"] == "alpha"


def test_ls_table_from_environment(plugins, monkeypatch: pytest.MonkeyPatch) -> None:
    alpha = plugins.start("alpha")
    monkeypatch.setenv("GOATFLOW_PLUGIN_SOCKET", str(alpha.socket))
    result = goatui("ls")
    assert result.returncode == 0
    header, row = result.stdout.strip().splitlines()
    assert header.split()[:4] == ["NAME", "VERSION", "HEALTH", "LATENCY"]
    assert row.split()[:3] == ["alpha", "9.9.9", "SERVING"]


def test_call_prints_pretty_json(plugins) -> None:
    alpha = plugins.start("alpha")
    result = goatui("--socket", str(alpha.socket), "call", "alpha", "echo", '{"a": 1}')
    assert result.returncode == 0, result.stderr
    assert result.stdout == '{\n  "a": 1\n}\n'


def test_call_args_from_stdin_and_file(plugins, tmp_path: Path) -> None:
    alpha = plugins.start("alpha")
    result = goatui("call", "alpha", "echo", "-", "--socket", str(alpha.socket), stdin='{"s": 2}')
    assert json.loads(result.stdout) == {"s": 2}
    args_file = tmp_path / "args.json"
    args_file.write_text('{"f": 3}')
    result = goatui("call", "alpha", "echo", f"@{args_file}", "--socket", str(alpha.socket))
    assert json.loads(result.stdout) == {"f": 3}


def test_call_default_args_are_empty_object(plugins) -> None:
    alpha = plugins.start("alpha")
    result = goatui("call", "alpha", "echo", "--socket", str(alpha.socket))
    assert json.loads(result.stdout) == {}


def test_invalid_json_is_refused_with_line_and_column(plugins) -> None:
    alpha = plugins.start("alpha")
    result = goatui("call", "alpha", "echo", '{\n  "a": ,\n}', "--socket", str(alpha.socket))
    assert result.returncode == 2
    assert_one_clean_line(result.stderr)
    assert "line 2, column 8" in result.stderr
    assert "nothing was sent" in result.stderr


def test_plugin_error_exit_1(plugins) -> None:
    alpha = plugins.start("alpha")
    result = goatui(
        "call", "alpha", "fail", '{"message": "disk full"}', "--socket", str(alpha.socket)
    )
    assert result.returncode == 1
    assert_one_clean_line(result.stderr)
    assert "UNKNOWN: disk full" in result.stderr


def test_unknown_plugin_exit_2(plugins) -> None:
    alpha = plugins.start("alpha")
    result = goatui("call", "nope", "echo", "--socket", str(alpha.socket))
    assert result.returncode == 2
    assert_one_clean_line(result.stderr)
    assert "unknown plugin 'nope'" in result.stderr


def test_missing_socket_exit_3(sock_dir: Path) -> None:
    result = goatui(
        "call", "ghost", "echo", "--socket", str(sock_dir / "goatflow-plugin-ghost.sock")
    )
    assert result.returncode == 3
    assert_one_clean_line(result.stderr)
    assert "no socket at" in result.stderr


def test_timeout_exit_3(plugins) -> None:
    alpha = plugins.start("alpha")
    result = goatui(
        "call", "alpha", "slow", '{"seconds": 5}', "--timeout", "0.5", "--socket", str(alpha.socket)
    )
    assert result.returncode == 3
    assert_one_clean_line(result.stderr)
    assert "timed out after 0.5s" in result.stderr


def test_usage_errors_exit_2() -> None:
    for args in (["bogus"], ["call"], ["call", "a", "b", "--timeout", "-1"]):
        result = goatui(*args)
        assert result.returncode == 2, args
        assert_one_clean_line(result.stderr)


def test_bad_config_exit_2(tmp_path: Path) -> None:
    config = tmp_path / "bad.toml"
    config.write_text("timeout = [")
    result = goatui("--config", str(config), "ls")
    assert result.returncode == 2
    assert_one_clean_line(result.stderr)
    assert "not valid TOML" in result.stderr


def test_hostile_and_binary_results_are_inert(plugins) -> None:
    alpha = plugins.start("alpha")
    for function in ("hostile", "binary"):
        result = goatui("call", "alpha", function, "--socket", str(alpha.socket))
        assert result.returncode == 0
        assert not any(ord(ch) in UNSAFE_CODEPOINTS for ch in result.stdout), function
    result = goatui("call", "alpha", "binary", "--socket", str(alpha.socket))
    assert result.stdout.startswith("00000000  ff fe 00 01")


def test_cli_never_imports_textual(plugins) -> None:
    alpha = plugins.start("alpha")
    code = (
        "import sys\n"
        "from goatui.cli import main\n"
        f"rc = main(['ls', '--json', '--socket', {str(alpha.socket)!r}])\n"
        f"rc |= main(['call', 'alpha', 'echo', '--socket', {str(alpha.socket)!r}])\n"
        "assert 'textual' not in sys.modules, 'the CLI imported textual'\n"
        "sys.exit(rc)\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=30
    )
    assert result.returncode == 0, result.stderr


CORE_DIR = Path(__file__).resolve().parent.parent / "goatui" / "core"
CORE_MODULES = sorted(
    ".".join(("goatui", "core", *p.relative_to(CORE_DIR).with_suffix("").parts))
    for p in CORE_DIR.rglob("*.py")
    if p.stem != "__init__"
)


@pytest.mark.parametrize("module", CORE_MODULES)
def test_core_modules_do_not_import_textual(module: str) -> None:
    code = f"import sys, {module}; sys.exit('textual' in sys.modules)"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, f"{module} imports textual {result.stderr}"
