"""goatui's config file: TOML in the XDG config dir, every key documented here.

Path: $GOATUI_CONFIG, else $XDG_CONFIG_HOME/goatui/config.toml (~/.config/...).
Command-line options override the file.

| key              | meaning                                                   | default |
|------------------|-----------------------------------------------------------|---------|
| sockets          | socket paths to watch (list)                              | []      |
| globs            | socket globs to watch (list)                              | []      |
| plugins_dir      | GoatFlow plugins dir (manifests; --launch starts them)    | none    |
| probe_interval   | seconds between health probes in the console              | 2.0     |
| timeout          | call timeout in seconds                                   | 30.0    |
| max_message_mb   | largest result accepted, MiB                              | 64      |
| theme            | Textual theme name (the console saves the chosen one)     | none    |
| read_only        | disable invoking, job triggers and other changes          | false   |
| bell             | ring the terminal bell on a plugin state change           | false   |
| log_buffer       | log entries kept in memory                                | 10000   |
| [plugins.NAME]   | string values the host answers to that plugin's ConfigGet | {}      |
| [contexts.NAME]  | named contexts: gateway + token_file, or sockets          | {}      |
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from goatui.core.errors import UsageError

CONFIG_ENV = "GOATUI_CONFIG"


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
    timeout: float = 30.0
    max_message_mb: int = 64
    theme: str | None = None
    read_only: bool = False
    bell: bool = False
    log_buffer: int = 10_000
    plugins: dict[str, dict[str, str]] = field(default_factory=dict)
    contexts: dict[str, dict[str, Any]] = field(default_factory=dict)
    path: Path | None = None

    def plugin_config(self, plugin: str) -> dict[str, str]:
        return self.plugins.get(plugin, {})


_TYPES: dict[str, tuple[type, ...]] = {
    "sockets": (list,),
    "globs": (list,),
    "plugins_dir": (str,),
    "probe_interval": (int, float),
    "timeout": (int, float),
    "max_message_mb": (int,),
    "theme": (str,),
    "read_only": (bool,),
    "bell": (bool,),
    "log_buffer": (int,),
    "plugins": (dict,),
    "contexts": (dict,),
}


def load_config(path: Path | None = None) -> Config:
    """Read the config file; a missing file is the defaults, a broken one a UsageError."""
    path = path or config_path()
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return Config(path=path)
    except OSError as exc:
        raise UsageError(f"cannot read config {path}: {exc.strerror}", "fix or remove it") from None
    except UnicodeDecodeError as exc:
        raise UsageError(f"config {path} is not valid TOML: {exc}", "fix or remove it") from None
    # Only when there is a file: most CLI runs have none and skip the parser's import.
    import tomllib

    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise UsageError(f"config {path} is not valid TOML: {exc}", "fix or remove it") from None
    config = Config(path=path)
    for key, value in data.items():
        if key not in _TYPES:
            raise UsageError(f"config {path}: unknown key {key!r}", "see `goatui --help`")
        if not isinstance(value, _TYPES[key]) or isinstance(value, bool) != (
            _TYPES[key] == (bool,)
        ):
            raise UsageError(f"config {path}: {key} has the wrong type", "see `goatui --help`")
        setattr(config, key, value)
    for name, section in config.plugins.items():
        if not isinstance(section, dict):
            raise UsageError(f"config {path}: [plugins.{name}] must be a table")
        config.plugins[name] = {k: str(v) for k, v in section.items()}
    return config


def save_setting(key: str, value: str, path: Path | None = None) -> None:
    """Set one top-level string setting (e.g. theme), keeping the rest of the file."""
    path = path or config_path()
    lines = path.read_text(encoding="utf-8").splitlines() if path.exists() else []
    escaped = value.replace("\\", "\\\\").replace('"', '\\"')
    new_line = f'{key} = "{escaped}"'
    # Top-level keys must come before the first table header.
    first_table = next((i for i, line in enumerate(lines) if line.lstrip().startswith("[")), None)
    top = lines if first_table is None else lines[:first_table]
    for i, line in enumerate(top):
        if line.split("=", 1)[0].strip() == key:
            lines[i] = new_line
            break
    else:
        lines.insert(first_table if first_table is not None else len(lines), new_line)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
