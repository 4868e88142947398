"""Plugin state changes become few notices: one per cause, paced per plugin."""

from __future__ import annotations

from goatui.core.models import natural_key
from goatui.core.notices import (
    MAX_WAIT_S,
    PER_PLUGIN,
    PER_PLUGIN_S,
    QUIET_S,
    TransitionNotices,
)


def test_a_mass_event_is_one_notice_with_its_cause_said_once() -> None:
    notices = TransitionNotices()
    for i in range(120, 0, -1):  # over a second, the names in no particular order
        at = (120 - i) / 119
        notices.add(f"fleet-{i}", "SERVING", "UNREACHABLE", "gateway down: refused", at)
    assert notices.flush(1.0) == []  # still coming in: gathering
    due = notices.due()
    assert due == 1.0 + QUIET_S
    (notice,) = notices.flush(due)
    assert notice.text == (
        "120 plugins unreachable: fleet-1, fleet-2, fleet-3, … · gateway down: refused"
    )
    assert notice.severity == "error"
    assert notices.due() is None


def test_different_causes_and_states_are_separate_and_a_lone_plugin_is_named() -> None:
    notices = TransitionNotices()
    notices.add("a", "SERVING", "GONE", "socket no longer found", 0.0)
    notices.add("b", "SERVING", "GONE", "socket no longer found", 0.1)
    notices.add("c", "NOT_SERVING", "SERVING", "", 0.2)
    texts = [n.text for n in notices.flush(0.2 + QUIET_S)]
    assert texts == [
        "2 plugins gone (their sockets vanished): a, b · socket no longer found",
        "c: NOT_SERVING → SERVING",
    ]


def test_changes_that_never_pause_are_told_after_the_longest_wait() -> None:
    notices = TransitionNotices()
    now = 0.0
    while now < MAX_WAIT_S:
        notices.add(f"p{int(now * 10)}", "SERVING", "UNREACHABLE", "", now)
        now += QUIET_S / 2
    assert notices.due() == MAX_WAIT_S
    (notice,) = notices.flush(MAX_WAIT_S)
    assert notice.text.startswith("12 plugins unreachable: p0, p2, p5, …")


def told_over(notices: TransitionNotices, changes: list[tuple[float, str, str]]) -> list[str]:
    """Feed (time, old, new) changes of plugin "p" and flush whenever due, as the console
    does; what was told."""
    texts: list[str] = []
    for at, old, new in [*changes, (changes[-1][0] + 60, "", "")]:
        while (due := notices.due()) is not None and due <= at:
            texts += [n.text for n in notices.flush(due)]
        if old:
            notices.add("p", old, new, "", at)
    return texts


def test_down_and_up_again_are_both_told_at_once() -> None:
    texts = told_over(
        TransitionNotices(), [(0.0, "SERVING", "NOT_SERVING"), (2.0, "NOT_SERVING", "SERVING")]
    )
    assert texts == ["p: SERVING → NOT_SERVING", "p: NOT_SERVING → SERVING"]
    # Within the same moment: one notice with the way it went.
    texts = told_over(
        TransitionNotices(), [(0.0, "SERVING", "NOT_SERVING"), (0.1, "NOT_SERVING", "SERVING")]
    )
    assert texts == ["p: SERVING → NOT_SERVING → SERVING"]


def test_a_flapping_plugin_gets_a_few_notices_then_one_per_interval_with_a_count() -> None:
    states = ("SERVING", "NOT_SERVING")
    changes = [(i * 0.6, states[i % 2], states[(i + 1) % 2]) for i in range(100)]  # 60 s
    texts = told_over(TransitionNotices(), changes)
    assert texts[:PER_PLUGIN] == [
        "p: SERVING → NOT_SERVING",
        "p: NOT_SERVING → SERVING",
        "p: SERVING → NOT_SERVING",
    ]
    assert len(texts) <= PER_PLUGIN * (60 / PER_PLUGIN_S + 1)
    paced = texts[PER_PLUGIN:]
    assert paced and all(" changes in " in text for text in paced)
    # Quiet for a while: the next change is news again, told at once.
    notices = TransitionNotices()
    assert told_over(notices, [(0.0, "SERVING", "NOT_SERVING")]) == ["p: SERVING → NOT_SERVING"]


def test_nothing_is_kept_about_plugins_once_told_and_quiet() -> None:
    notices = TransitionNotices()
    for i in range(1000):
        notices.add(f"p{i}", "SERVING", "UNREACHABLE", "", 0.0)
    notices.flush(QUIET_S)
    notices.flush(QUIET_S + PER_PLUGIN_S)
    assert notices._plugins == {}


def test_names_sort_naturally() -> None:
    names = ["fleet-10", "fleet-2", "Fleet-3", "alpha", "fleet-1", "b10a", "b10", "b2"]
    assert sorted(names, key=natural_key) == [
        "alpha",
        "b2",
        "b10",
        "b10a",
        "fleet-1",
        "fleet-2",
        "Fleet-3",
        "fleet-10",
    ]
