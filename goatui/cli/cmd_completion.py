"""`goatui completion bash|zsh|fish`: shell completion, made from the parser itself.

The script is generated from the argparse parser goatui runs with (every command,
nested ones such as `job run`, every option with its help), so it cannot drift from
the CLI. Options whose value is a path (metavar FILE, PATH or DIR) complete file names;
options and positionals with choices complete those. Nothing here imports Textual.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from goatui.core.config import Config

SHELLS = ("bash", "zsh", "fish")
FILE_METAVARS = {"FILE", "PATH"}
DIR_METAVARS = {"DIR"}

DESCRIPTION = """\
print a shell completion script for goatui

  bash:  eval "$(goatui completion bash)"          (in ~/.bashrc)
  zsh:   eval "$(goatui completion zsh)"           (in ~/.zshrc, after compinit)
  fish:  goatui completion fish > ~/.config/fish/completions/goatui.fish

It completes commands, options (with their help in zsh and fish), the choices of an
option such as --sort, and file names for options that take a file."""


def add_arguments(name: str, parser: argparse.ArgumentParser) -> None:
    parser.description = DESCRIPTION
    parser.add_argument("shell", choices=SHELLS, help="the shell: bash, zsh or fish")
    parser.set_defaults(handler=run, needs_config=False)


def run(options: argparse.Namespace, config: Config | None) -> int:
    from goatui.cli.parser import build_parser

    print(script(options.shell, build_parser()), end="")
    return 0


# -- the parser as a tree ------------------------------------------------------------------


@dataclass(frozen=True)
class Option:
    flags: tuple[str, ...]
    help: str
    #: "" (a flag), "file", "dir", "choice" or "value" (anything: nothing to offer).
    takes: str = ""
    choices: tuple[str, ...] = ()


@dataclass
class Command:
    #: The words after `goatui` that name it, joined by "/" ("" for goatui itself).
    path: str
    help: str = ""
    options: list[Option] = field(default_factory=list)
    commands: dict[str, Command] = field(default_factory=dict)
    #: Choices of its first positional argument (completion's shell).
    choices: tuple[str, ...] = ()

    def walk(self) -> Iterator[Command]:
        yield self
        for sub in self.commands.values():
            yield from sub.walk()

    def value_flags(self) -> list[str]:
        return [flag for option in self.options if option.takes for flag in option.flags]


def command_tree(parser: argparse.ArgumentParser, path: str = "", help: str = "") -> Command:
    finish = getattr(parser, "finish", None)
    if finish is not None:
        finish()  # options a command adds only when used (goatui.cli.parser.Parser.defer)
    command = Command(path, help)
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            helps = {a.dest: a.help or "" for a in action._choices_actions}
            for name, sub in action.choices.items():
                sub_path = f"{path}/{name}" if path else name
                command.commands[name] = command_tree(sub, sub_path, helps.get(name, ""))
        elif action.option_strings:
            if action.help == argparse.SUPPRESS:
                continue
            command.options.append(_option(action))
        elif action.choices and not command.choices:
            command.choices = tuple(str(c) for c in action.choices)
    return command


def _option(action: argparse.Action) -> Option:
    flags = tuple(action.option_strings)
    help_text = " ".join((action.help or "").split()).replace("%%", "%")
    if action.nargs == 0:
        return Option(flags, help_text)
    if action.choices:
        return Option(flags, help_text, "choice", tuple(str(c) for c in action.choices))
    metavar = str(action.metavar or "")
    if metavar in FILE_METAVARS:
        return Option(flags, help_text, "file")
    if metavar in DIR_METAVARS:
        return Option(flags, help_text, "dir")
    return Option(flags, help_text, "value")


# -- the scripts ---------------------------------------------------------------------------


def script(shell: str, parser: argparse.ArgumentParser) -> str:
    tree = command_tree(parser)
    writers: dict[str, Callable[[Command], str]] = {"bash": bash, "zsh": zsh, "fish": fish}
    return writers[shell](tree)


def _quote(text: str) -> str:
    """text in single quotes, for sh, zsh and fish alike."""
    return "'" + text.replace("\\", "\\\\").replace("'", "'\\''") + "'"


def _fish_quote(text: str) -> str:
    return "'" + text.replace("\\", "\\\\").replace("'", "\\'") + "'"


def _step(cmd: Command) -> str:
    """What `$cmdpath/$word` reads when the word names this command: "/ls", "job/run"."""
    parent, _, name = cmd.path.rpartition("/")
    return f"{parent}/{name}"


def _path_cases(tree: Command, indent: str) -> list[str]:
    """`case "$cmdpath/$word"` arms that step into a command (sh and zsh syntax)."""
    return [
        f"{indent}{_quote(_step(cmd))}) cmdpath={_quote(cmd.path)} ;;"
        for cmd in tree.walk()
        if cmd.path
    ]


def _value_flags(tree: Command) -> str:
    flags = sorted({flag for cmd in tree.walk() for flag in cmd.value_flags()})
    return "|".join(flags)


def bash(tree: Command) -> str:
    lines = [
        "# bash completion for goatui (goatui completion bash)",
        "_goatui() {",
        "    local cur prev word cmdpath='' skip=0 i",
        '    cur="${COMP_WORDS[COMP_CWORD]}"',
        '    prev="${COMP_WORDS[COMP_CWORD-1]}"',
        "    for ((i = 1; i < COMP_CWORD; i++)); do",
        '        word="${COMP_WORDS[i]}"',
        "        if ((skip)); then skip=0; continue; fi",
        '        case "$cmdpath/$word" in',
        *_path_cases(tree, "            "),
        "        esac",
        '        case "$word" in',
        f"            {_value_flags(tree)}) skip=1 ;;",
        "        esac",
        "    done",
        '    case "$cmdpath:$prev" in',
    ]
    for cmd in tree.walk():
        for option in cmd.options:
            if not option.takes:
                continue
            arms = "|".join(_quote(f"{cmd.path}:{flag}") for flag in option.flags)
            if option.takes == "file":
                action = 'COMPREPLY=($(compgen -f -- "$cur")); return ;;'
            elif option.takes == "dir":
                action = 'COMPREPLY=($(compgen -d -- "$cur")); return ;;'
            elif option.takes == "choice":
                choices = _quote(" ".join(option.choices))
                action = f'COMPREPLY=($(compgen -W {choices} -- "$cur")); return ;;'
            else:
                action = "return ;;"
            lines.append(f"        {arms}) {action}")
    lines += ["    esac", "    local words=''", '    case "$cmdpath" in']
    for cmd in tree.walk():
        offered = [*cmd.commands, *cmd.choices, *(f for o in cmd.options for f in o.flags)]
        lines.append(f"        {_quote(cmd.path)}) words={_quote(' '.join(offered))} ;;")
    lines += [
        "    esac",
        '    COMPREPLY=($(compgen -W "$words" -- "$cur"))',
        "}",
        "complete -o default -F _goatui goatui",
        "",
    ]
    return "\n".join(lines)


def zsh(tree: Command) -> str:
    lines = [
        "#compdef goatui",
        "# zsh completion for goatui (goatui completion zsh)",
        "_goatui() {",
        "    local cmdpath='' word prev skip=0 i",
        "    for ((i = 2; i < CURRENT; i++)); do",
        '        word="${words[i]}"',
        "        if ((skip)); then skip=0; continue; fi",
        '        case "$cmdpath/$word" in',
        *_path_cases(tree, "            "),
        "        esac",
        '        case "$word" in',
        f"            {_value_flags(tree)}) skip=1 ;;",
        "        esac",
        "    done",
        '    prev="${words[CURRENT-1]}"',
        '    case "$cmdpath:$prev" in',
    ]
    for cmd in tree.walk():
        for option in cmd.options:
            if not option.takes:
                continue
            arms = "|".join(_quote(f"{cmd.path}:{flag}") for flag in option.flags)
            if option.takes == "file":
                action = "_files; return ;;"
            elif option.takes == "dir":
                action = "_files -/; return ;;"
            elif option.takes == "choice":
                action = f"compadd -- {' '.join(_quote(c) for c in option.choices)}; return ;;"
            else:
                action = "return ;;"
            lines.append(f"        {arms}) {action}")
    lines += ["    esac", '    case "$cmdpath" in']
    for cmd in tree.walk():
        commands = [f"{name}:{sub.help}" for name, sub in cmd.commands.items()]
        commands += list(cmd.choices)
        options = [f"{flag}:{option.help}" for option in cmd.options for flag in option.flags]
        lines += [
            f"        {_quote(cmd.path)})",
            "            local -a subcommands options",
            f"            subcommands=({' '.join(_quote(c) for c in commands)})",
            f"            options=({' '.join(_quote(o) for o in options)})",
            "            ;;",
        ]
    lines += [
        "    esac",
        '    if [[ "$PREFIX" == -* ]]; then',
        "        _describe -t options option options",
        "    else",
        "        _describe -t commands command subcommands || _files",
        "    fi",
        "}",
        'if [[ "$funcstack[1]" == _goatui ]]; then',
        '    _goatui "$@"',
        "else",
        "    compdef _goatui goatui",
        "fi",
        "",
    ]
    return "\n".join(lines)


def fish(tree: Command) -> str:
    value_flags = " ".join(sorted({f for cmd in tree.walk() for f in cmd.value_flags()}))
    lines = [
        "# fish completion for goatui (goatui completion fish)",
        "function __goatui_path",
        "    set -l cmdpath ''",
        "    set -l skip 0",
        "    for word in (commandline -opc)[2..-1]",
        "        if test $skip = 1",
        "            set skip 0",
        "            continue",
        "        end",
        '        switch "$cmdpath/$word"',
    ]
    for cmd in tree.walk():
        if cmd.path:
            lines += [
                f"            case {_fish_quote(_step(cmd))}",
                f"                set cmdpath {_fish_quote(cmd.path)}",
            ]
    lines += [
        "        end",
        f"        if contains -- $word {value_flags}",
        "            set skip 1",
        "        end",
        "    end",
        "    echo $cmdpath",
        "end",
        "",
        "function __goatui_in",
        "    set -l cmdpath (__goatui_path)",
        '    test "$cmdpath" = "$argv[1]"',
        "end",
        "",
        "complete -c goatui -f",
    ]
    for cmd in tree.walk():
        where = f"-n {_fish_quote(f'__goatui_in {_fish_quote(cmd.path)}')}"
        for name, sub in cmd.commands.items():
            lines.append(f"complete -c goatui {where} -a {name} -d {_fish_quote(sub.help)}")
        if cmd.choices:
            lines.append(f"complete -c goatui {where} -a {_fish_quote(' '.join(cmd.choices))}")
        for option in cmd.options:
            names = " ".join(
                f"-l {flag[2:]}" if flag.startswith("--") else f"-s {flag[1:]}"
                for flag in option.flags
            )
            takes = {
                "": "",
                "file": " -r -F",
                "dir": " -r -F",
                "value": " -x",
                "choice": f" -x -a {_fish_quote(' '.join(option.choices))}",
            }[option.takes]
            lines.append(f"complete -c goatui {where} {names}{takes} -d {_fish_quote(option.help)}")
    return "\n".join(lines) + "\n"
