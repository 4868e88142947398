"""goatui's config file: TOML in the XDG config dir, every key documented here.

Path: $GOATUI_CONFIG, else $XDG_CONFIG_HOME/goatui/config.toml (~/.config/...).
Command-line options override the file.

| key              | meaning                                                   | default |
|------------------|-----------------------------------------------------------|---------|
| sockets          | socket paths to watch (list of strings)                   | []      |
| globs            | socket globs to watch (list of strings)                   | []      |
| plugins_dir      | GoatFlow plugins dir (manifests; --launch starts them)    | none    |
| probe_interval   | seconds between health probes in the console              | 2.0     |
| timeout          | call timeout in seconds                                   | 30.0    |
| max_message_mb   | largest result (and args) accepted, MiB (1 to 2047)       | 64      |
| theme            | Textual theme name (the console saves the chosen one)     | none    |
| read_only        | disable invoking, job triggers and other changes          | false   |
| bell             | ring the terminal bell on a plugin state change           | false   |
| log_buffer       | log entries kept in memory (1 to 1000000)                 | 10000   |
| wasm             | WebAssembly plugin files goatui runs itself (list; relative paths are relative to the config file) | [] |
| wasm_memory_mb   | memory limit of each WASM plugin, MiB (GoatFlow's: 16)    | 16      |
| allow_http       | let WASM plugins make HTTP requests (http_request)        | false   |
| language         | language of WASM plugins' translations (else LANG's, en)  | none    |
| [plugins.NAME]   | values the host answers to that plugin's ConfigGet        | {}      |
| [contexts.NAME]  | named contexts: gateway + token_file, or sockets          | {}      |
| [keys]           | the console's keys: binding id = "key" or "key1,key2" (`?` lists the ids) | {} |

The schema below (`SETTINGS`) checks every value's type, element types of lists and
tables included, and its range, and says which key is wrong and what it should be:
one line and exit 2, never a traceback. Values of a `[plugins.NAME]` table are strings;
numbers and booleans are taken as TOML spells them. The file is read against a 1 MiB
limit. The console writes a setting back (the theme) with tomlkit, which keeps the
rest of the file as the operator wrote it (comments, order, quoting), through a new
file renamed over the old one (a crash leaves one or the other) with mode 0600.
"""

from __future__ import annotations

import math
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, time
from pathlib import Path
from typing import Any

from goatui.core.errors import UsageError
from goatui.core.inputs import decode_text, read_file, shown_path
from goatui.core.limits import (
    DEFAULT_CALL_TIMEOUT_S,
    DEFAULT_MAX_MESSAGE_MB,
    MiB,
    check_count,
    check_message_mb,
    check_seconds,
)

CONFIG_ENV = "GOATUI_CONFIG"
MAX_CONFIG_BYTES = MiB
MAX_LOG_BUFFER = 1_000_000


def config_home() -> Path:
    return Path(os.environ.get("XDG_CONFIG_HOME") or Path.home() / ".config") / "goatui"


def state_home() -> Path:
    """Where history and other state live ($XDG_STATE_HOME/goatui)."""
    return Path(os.environ.get("XDG_STATE_HOME") or Path.home() / ".local" / "state") / "goatui"


def config_path() -> Path:
    explicit = os.environ.get(CONFIG_ENV)
    return Path(explicit) if explicit else config_home() / "config.toml"


@dataclass
class Config:
    sockets: list[str] = field(default_factory=list)
    globs: list[str] = field(default_factory=list)
    plugins_dir: str | None = None
    probe_interval: float = 2.0
    timeout: float = DEFAULT_CALL_TIMEOUT_S
    max_message_mb: int = DEFAULT_MAX_MESSAGE_MB
    theme: str | None = None
    read_only: bool = False
    bell: bool = False
    log_buffer: int = 10_000
    wasm: list[str] = field(default_factory=list)
    wasm_memory_mb: int = 16  # GoatFlow's 256 pages of 64 KiB
    allow_http: bool = False
    language: str | None = None
    plugins: dict[str, dict[str, str]] = field(default_factory=dict)
    contexts: dict[str, dict[str, Any]] = field(default_factory=dict)
    keys: dict[str, str] = field(default_factory=dict)
    path: Path | None = None

    def plugin_config(self, plugin: str) -> dict[str, str]:
        return self.plugins.get(plugin, {})


# -- the schema ----------------------------------------------------------------------------


def kind_of(value: Any) -> str:
    """What a TOML value is, as an error message names it."""
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int):
        return "an integer"
    if isinstance(value, float):
        return "a float"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "a table"
    if isinstance(value, datetime | date | time):
        return "a date or time"
    return type(value).__name__


#: A check takes the value and where it is (`config FILE: key`) and returns the value
#: to keep, or raises UsageError saying what it should be.
Check = Callable[[Any, str], Any]


def _wrong(where: str, expected: str, value: Any) -> UsageError:
    return UsageError(f"{where} must be {expected}, not {kind_of(value)}", "see `goatui --help`")


def text(value: Any, where: str) -> str:
    if not isinstance(value, str):
        raise _wrong(where, "a string", value)
    return value


def flag(value: Any, where: str) -> bool:
    if not isinstance(value, bool):
        raise _wrong(where, "true or false", value)
    return value


def strings(value: Any, where: str) -> list[str]:
    if not isinstance(value, list):
        raise _wrong(where, "a list of strings", value)
    for index, item in enumerate(value):
        if not isinstance(item, str):
            raise _wrong(f"{where}[{index}]", "a string", item)
    return list(value)


def _number(value: Any, where: str, expected: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise _wrong(where, expected, value)
    return value


def seconds(value: Any, where: str) -> float:
    return check_seconds(_number(value, where, "a number of seconds"), where)


def message_mb(value: Any, where: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise _wrong(where, "a whole number of MiB", value)
    return check_message_mb(value, where)


def log_entries(value: Any, where: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise _wrong(where, "a whole number of entries", value)
    return check_count(value, where, low=1, high=MAX_LOG_BUFFER)


def memory_mb(value: Any, where: str) -> int:
    """A WASM plugin's memory limit: wasm32 addresses at most 4 GiB."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise _wrong(where, "a whole number of MiB", value)
    return check_count(value, where, low=1, high=4096)


def _scalar_text(value: Any, where: str) -> str:
    """A plugin's config value as the string ConfigGet answers (TOML's spelling)."""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int) or (isinstance(value, float) and math.isfinite(value)):
        return str(value)
    raise _wrong(where, "a string (or a number or boolean)", value)


def plugin_tables(value: Any, where: str) -> dict[str, dict[str, str]]:
    if not isinstance(value, dict):
        raise _wrong(where, "tables [plugins.NAME]", value)
    tables: dict[str, dict[str, str]] = {}
    for name, section in value.items():
        inner = _table_name(where, name)
        if not isinstance(section, dict):
            raise _wrong(inner, "a table", section)
        tables[name] = {k: _scalar_text(v, f"{inner} {k}") for k, v in section.items()}
    return tables


def _table_name(where: str, name: str) -> str:
    """`config FILE: [plugins.NAME]` from `config FILE: plugins`."""
    head, _, key = where.rpartition(": ")
    return f"{head}: [{key}.{name}]"


def tables(value: Any, where: str) -> dict[str, dict[str, Any]]:
    """[contexts.NAME] tables; each is checked by its own schema (backends.contexts)."""
    if not isinstance(value, dict):
        raise _wrong(where, "tables [contexts.NAME]", value)
    for name, section in value.items():
        if not isinstance(section, dict):
            raise _wrong(_table_name(where, name), "a table", section)
    return dict(value)


def key_table(value: Any, where: str) -> dict[str, str]:
    """[keys]: binding id = the key(s) for it, a string ("ctrl+e", "j,down")."""
    if not isinstance(value, dict):
        raise _wrong(where, 'a table [keys] of binding id = "key"', value)
    for binding_id, keys in value.items():
        if not isinstance(keys, str) or not keys.strip():
            raise _wrong(f"{where}.{binding_id}", 'a key, such as "ctrl+e" or "j,down"', keys)
    return {binding_id: keys.replace(" ", "") for binding_id, keys in value.items()}


@dataclass(frozen=True)
class Setting:
    check: Check


SETTINGS: dict[str, Setting] = {
    "sockets": Setting(strings),
    "globs": Setting(strings),
    "plugins_dir": Setting(text),
    "probe_interval": Setting(seconds),
    "timeout": Setting(seconds),
    "max_message_mb": Setting(message_mb),
    "theme": Setting(text),
    "read_only": Setting(flag),
    "bell": Setting(flag),
    "log_buffer": Setting(log_entries),
    "wasm": Setting(strings),
    "wasm_memory_mb": Setting(memory_mb),
    "allow_http": Setting(flag),
    "language": Setting(text),
    "plugins": Setting(plugin_tables),
    "contexts": Setting(tables),
    "keys": Setting(key_table),
}


def check_table(table: dict[str, Any], schema: dict[str, Check], where: str) -> dict[str, Any]:
    """The table's values as the schema checks them; UsageError for an unknown key or a
    value of the wrong type. Shared by the file's top level and its [contexts.NAME]."""
    checked: dict[str, Any] = {}
    for key, value in table.items():
        check = schema.get(key)
        if check is None:
            raise UsageError(f"{where}: unknown key {key!r}", f"known keys: {', '.join(schema)}")
        checked[key] = check(value, f"{where}: {key}")
    return checked


# -- reading and writing -------------------------------------------------------------------


def load_config(path: Path | None = None) -> Config:
    """Read the config file; a missing file is the defaults, a broken one a UsageError."""
    path = path or config_path()
    shown = shown_path(path)
    if not path.exists() and not path.is_symlink():
        return Config(path=path)
    data = read_file(path, limit=MAX_CONFIG_BYTES, what=f"config {shown}", hint="fix or remove it")
    source = decode_text(data, f"config {shown}")
    # Only when there is a file: most CLI runs have none and skip the parser's import.
    import tomllib

    try:
        document = tomllib.loads(source)
    except tomllib.TOMLDecodeError as exc:
        raise UsageError(f"config {shown} is not valid TOML: {exc}", "fix or remove it") from None
    except RecursionError:
        raise UsageError(f"config {shown} is nested too deeply", "fix or remove it") from None
    schema = {key: setting.check for key, setting in SETTINGS.items()}
    config = Config(path=path)
    for key, value in check_table(document, schema, f"config {shown}").items():
        setattr(config, key, value)
    # A relative module path is relative to the config file.
    config.wasm = [str(path.parent / Path(item).expanduser()) for item in config.wasm]
    return config


def save_setting(key: str, value: str, path: Path | None = None) -> None:
    """Set one top-level string setting (e.g. theme), keeping the rest of the file as
    it was written. Raises OSError, or UsageError when the file is not valid TOML."""
    import tomlkit
    from tomlkit.exceptions import ParseError

    if key not in SETTINGS:
        raise ValueError(f"unknown setting {key!r}")
    path = path or config_path()
    shown = shown_path(path)
    try:
        data = read_file(path, limit=MAX_CONFIG_BYTES, what=f"config {shown}")
    except UsageError:
        if path.exists():
            raise
        data = b""
    try:
        document = tomlkit.parse(decode_text(data, f"config {shown}"))
    except ParseError as exc:
        raise UsageError(f"config {shown} is not valid TOML: {exc}", "fix it first") from None
    document[key] = value
    write_private_atomically(path, tomlkit.dumps(document))


def write_private_atomically(path: Path, content: str) -> None:
    """Replace path with content: written to a new file (0600) in the same directory,
    flushed, then renamed over it, so a reader sees the old file or the new one."""
    import tempfile  # here: every command reads the config, few write it (issue #19)

    path.parent.mkdir(parents=True, exist_ok=True)
    target = path.resolve()  # a symlinked config is updated where it lives
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}-", dir=target.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as file:  # mkstemp: mode 0600
            file.write(content)
            file.flush()
            os.fsync(file.fileno())
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
