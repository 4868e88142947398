"""The call history file: where it lives, bounds, tolerance, privacy."""

from __future__ import annotations

import stat
from pathlib import Path

from hypothesis import given
from hypothesis import strategies as st

from goatui.core.calls.history import MAX_ARGS_CHARS, History, HistoryEntry


def entry(n: int, plugin: str = "alpha", outcome: str = "ok") -> HistoryEntry:
    return HistoryEntry.make(plugin, f"f{n}", f'{{"n": {n}}}', 1000.0 + n, 1.5, outcome)  # type: ignore[arg-type]


def test_lives_in_the_xdg_state_dir(tmp_path: Path) -> None:
    history = History()
    history.append(entry(1))
    path = tmp_path / "state" / "goatui" / "history.jsonl"
    assert history.path == path and path.is_file()
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


def test_entries_survive_a_restart_in_order(tmp_path: Path) -> None:
    path = tmp_path / "h.jsonl"
    first = History(path)
    for n in range(3):
        first.append(entry(n))
    again = History(path)
    assert [e.function for e in again.entries()] == ["f0", "f1", "f2"]
    assert again.entries()[0] == entry(0)


def test_bounded_on_disk_and_in_memory(tmp_path: Path) -> None:
    path = tmp_path / "h.jsonl"
    history = History(path, limit=20)
    for n in range(100):
        history.append(entry(n))
    lines = path.read_text().splitlines()
    assert len(lines) <= history.limit + history.slack
    assert len(history.entries()) == 20
    assert [e.function for e in History(path, limit=20).entries()][-1] == "f99"
    assert History(path, limit=20).entries()[0].function == "f80"


def test_recall_is_newest_first_and_per_plugin(tmp_path: Path) -> None:
    history = History(tmp_path / "h.jsonl")
    history.append(entry(1, "alpha"))
    history.append(entry(2, "beta"))
    history.append(entry(3, "alpha"))
    assert [e.function for e in history.recall("alpha")] == ["f3", "f1"]
    assert [e.function for e in history.recall()] == ["f3", "f2", "f1"]


def test_malformed_lines_are_skipped_not_fatal(tmp_path: Path) -> None:
    path = tmp_path / "h.jsonl"
    good = entry(1).to_line()
    path.write_text(f"not json\n[1, 2]\n{{}}\n{good}\n" + '{"plugin": 1}\n')
    assert History(path).entries() == [entry(1)]


def test_huge_args_are_dropped_and_flagged(tmp_path: Path) -> None:
    big = HistoryEntry.make("a", "f", "x" * (MAX_ARGS_CHARS + 1), 1.0, None, "error")
    assert big.args == "" and big.args_dropped
    history = History(tmp_path / "h.jsonl")
    history.append(big)
    assert History(tmp_path / "h.jsonl").entries() == [big]


def test_only_call_fields_are_stored(tmp_path: Path) -> None:
    history = History(tmp_path / "h.jsonl")
    history.append(entry(1, outcome="cancelled"))
    text = (tmp_path / "h.jsonl").read_text()
    assert "token" not in text.lower()
    assert set(HistoryEntry.__dataclass_fields__) == {
        "plugin",
        "function",
        "args",
        "at",
        "duration_ms",
        "outcome",
        "detail",
        "args_dropped",
    }


@given(
    plugin=st.text(max_size=30),
    function=st.text(max_size=30),
    args=st.text(max_size=200),
    duration=st.none() | st.floats(min_value=0, max_value=1e9),
    outcome=st.sampled_from(["ok", "error", "cancelled"]),
    detail=st.text(max_size=50),
)
def test_any_entry_round_trips_through_one_line(
    plugin: str, function: str, args: str, duration: float | None, outcome: str, detail: str
) -> None:
    original = HistoryEntry.make(plugin, function, args, 12.5, duration, outcome, detail)  # type: ignore[arg-type]
    line = original.to_line()
    assert "\n" not in line
    assert HistoryEntry.from_line(line) == original
