"""`goatui completion bash|zsh|fish`: scripts made from the parser, tried in each shell."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from goatui.cli.parser import build_parser


def completion(cli: Any, shell: str, tmp_path: Path) -> Path:
    ran = cli("completion", shell)
    assert ran.returncode == 0 and ran.stderr == ""
    path = tmp_path / f"goatui.{shell}"
    path.write_text(ran.stdout)
    return path


def commands() -> set[str]:
    parser = build_parser()
    sub = next(a for a in parser._actions if a.dest == "command")
    return set(sub.choices)  # type: ignore[arg-type]


BASH_TRY = """
source "$1"
try() { COMP_WORDS=("$@"); COMP_CWORD=$((${#COMP_WORDS[@]} - 1)); COMPREPLY=(); _goatui
        echo "${COMPREPLY[*]}"; }
try goatui ''
try goatui l
try goatui ls --sor
try goatui ls --sort ''
try goatui --timeout 5 job ''
try goatui job run --tok
try goatui --config "$2/con"
try goatui completion ''
"""


def test_bash_completes_commands_options_choices_and_files(cli: Any, tmp_path: Path) -> None:
    script = completion(cli, "bash", tmp_path)
    (tmp_path / "config.toml").write_text("")
    done = subprocess.run(
        ["bash", "-c", BASH_TRY, "try", str(script), str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert done.returncode == 0, done.stderr
    top, l_words, so, sort, job, tok, files, shells = done.stdout.splitlines()
    assert commands() <= set(top.split()) and "--gateway" in top.split()
    assert l_words.split() == ["ls", "logs", "login", "logout"]
    assert so.split() == ["--sort"]
    assert sort.split() == ["name", "health", "latency"]
    assert job.split()[0] == "run"
    assert tok.split() == ["--token-file"]  # the common options, added to every command
    assert files.split() == [str(tmp_path / "config.toml")]
    assert shells.split()[:3] == ["bash", "zsh", "fish"]


@pytest.mark.skipif(shutil.which("fish") is None, reason="fish is not installed")
def test_fish_completes_commands_and_choices_with_their_help(cli: Any, tmp_path: Path) -> None:
    script = completion(cli, "fish", tmp_path)
    tries = "; echo ---; ".join(
        f"complete -C {line!r}" for line in ("goatui l", "goatui ls --sort ", "goatui job ")
    )
    done = subprocess.run(
        ["fish", "--no-config", "-c", f"source {script}; {tries}"],
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert done.returncode == 0, done.stderr
    l_words, sort, job = done.stdout.split("---\n")
    assert [line.split("\t")[0] for line in l_words.splitlines()] == [
        "login",
        "logout",
        "logs",
        "ls",
    ]
    assert "ls\tlist plugins with health and latency" in l_words
    assert sorted(line.split("\t")[0] for line in sort.splitlines()) == [
        "health",
        "latency",
        "name",
    ]
    assert job.startswith("run\t")


ZSH_TRY = """
compdef() { : }
source "$1"
_describe() { local name=${@[-1]}; print -r -- "${(P)name}" }
compadd() { shift; print -r -- "$*" }
_files() { print -r -- files }
try() { words=("$@"); CURRENT=${#words}; PREFIX=${words[CURRENT]}; _goatui }
try goatui ''
try goatui ls --sort ''
try goatui ls --s
try goatui --config ''
"""


@pytest.mark.skipif(shutil.which("zsh") is None, reason="zsh is not installed")
def test_zsh_completes_commands_options_choices_and_files(cli: Any, tmp_path: Path) -> None:
    script = completion(cli, "zsh", tmp_path)
    assert subprocess.run(["zsh", "-n", str(script)], timeout=30).returncode == 0
    done = subprocess.run(
        ["zsh", "-f", "-c", ZSH_TRY, "try", str(script)],
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert done.returncode == 0, done.stderr
    top, sort, options, files = done.stdout.splitlines()
    assert "ls:list plugins with health and latency" in top
    assert sort == "name health latency"
    assert "--sort:order" in options and "--socket:" in options
    assert files == "files"
