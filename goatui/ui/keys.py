"""Keys handled in the order they were typed, by the widget focused when they are handled.

Textual routes a key to the widget focused when the key *arrives* and runs that widget's
key bindings only after the key has bubbled back up to the App, behind keys already
queued. Typed one at a time this is invisible; but keys come in bursts (a laggy SSH
link, a fast typist, a terminal multiplexer replaying input), and then:
- "ab⌫c" in a field became "abc" and then ⌫, leaving "ab" instead of "ac";
- ctrl+u before "echo" cleared the "echo" typed after it;
- letters typed after Tab landed in the field Tab had just left;
- "i" then "query" on the plugins table quit the console: the letters reached the
  table before the Invoke view took focus, and "q" is quit there.

Widgets built with `KeysInOrder` run a binding as soon as they do not use the key
themselves, and pass a key typed ahead of a focus change (or a view switch) to the App,
which hands it on to whatever has focus once the switch has settled. A widget that is
not built so (Textual's Select and its list, a dialog's buttons, the screen) gets one
key at a time: the next waits until that one has been handled, since it may close a
list or move the focus. A focus on a widget hidden for good is moved to what the
active view offers (`recover_focus`), so no key sequence leaves the console deaf.

Textual internals are used (`Message._stop_propagation`, `Widget._forward_event`, the
`Widget._on_key` override): textual is pinned to the minor version they were checked
against in pyproject.toml, and tests/test_private_internals.py (and
tests/test_console_keys.py) fail the day they stop doing what is relied on here.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from textual import events
from textual.app import App
from textual.widgets import Input

if TYPE_CHECKING:
    from textual.screen import Screen
    from textual.widget import Widget

    _WidgetMixin = Widget
    _AppMixin = App[int]
else:
    # Plain classes at run time: a Widget base would reorder Textual's merging of
    # DEFAULT_CSS and COMPONENT_CLASSES along the MRO.
    _WidgetMixin = _AppMixin = object

#: How many refreshes typed-ahead keys wait for focus to settle before being dropped.
SETTLE_REFRESHES = 120
#: How many refreshes a focus on a widget that is not shown may last, when no view is
#: being switched, before the App moves it to what the operator can see. A widget being
#: revealed (a class change) is shown after one style update; one hidden for good (the
#: Logs view's lines under "host calls only") never is, and every key waited for it.
RECOVER_REFRESHES = 5
#: Refreshes the next key waits after one handed to a widget that does not keep keys
#: in order (goatui's own widgets do: theirs wait only for focus changes).
UNORDERED_REFRESHES = 3
#: When the screen a refresh callback waits on is dismissed first, Textual drops the
#: callback (it runs in that screen's next refresh, which never comes): the chain of
#: typed-ahead keys goes on after this long instead.
REFRESH_FALLBACK_S = 0.05


def is_shown(widget: Widget) -> bool:
    """Displayed as far as the DOM says (a hidden tab hides everything in it)."""
    return all(node.display for node in widget.ancestors_with_self)


def focus_now(widget: Widget) -> None:
    """Focus widget before the next key is handled. (`Widget.focus` waits for the message
    loop: "/" then "a" in the Logs view ran `a`'s binding on the lines, not typed it.)"""
    widget.screen.set_focus(widget)


class KeysInOrder(_WidgetMixin):
    """Widget mixin (list it before the Textual widget): keys in order, at the focus."""

    async def _on_key(self, event: events.Key) -> None:
        # The base classes' own key handlers run below, once, via super(); without this
        # Textual would call them again after this one.
        event.prevent_default()
        app = self.app
        held = isinstance(app, TypedAheadKeys) and app.switching
        if held or app.focused is not self or not is_shown(self):
            # Typed ahead of a focus change: it belongs to what the operator was looking
            # at when they typed it, which the App knows once the change has settled.
            event.stop()
            if isinstance(self.app, TypedAheadKeys):
                self.app.replay_typed_key(event)
            return
        if not self.leaves_key(event):
            await super()._on_key(event)
            if event._stop_propagation:  # the widget used the key (typed a character)
                return
        active = self.screen.active_bindings.get(event.key)
        if active is None or active.binding.priority or not active.enabled:
            return  # Textual's own route decides (priority bindings already ran)
        if await self.app.run_action(active.binding.action, active.node):
            event.stop()

    def leaves_key(self, event: events.Key) -> bool:
        """True for a key the widget would use but leaves to the bindings this time (an
        empty function field leaves digits to the view switch)."""
        return False


class TypedAheadKeys(_AppMixin):
    """App mixin: keys typed ahead of a focus change go to the focus once it settles."""

    _typed_ahead: deque[events.Key]
    _settle_tries = 0
    _holds = 0
    # Refreshes still to wait for the key handed to a widget that does not keep keys in
    # order: what it does may take a few hops (a list closing posts a message, the
    # select then focuses itself later).
    _unordered_wait = 0

    @property
    def switching(self) -> bool:
        """A view is being mounted, or a dialog opened: focus is not settled until then."""
        return self._holds > 0

    def hold_keys(self) -> None:
        """Keys typed from now wait (in order) until `release_keys`."""
        self._holds += 1

    def release_keys(self) -> None:
        self._holds = max(self._holds - 1, 0)

    def after_refresh(self, callback: Callable[[], object]) -> None:
        """callback after the next refresh, exactly once, also when the screen that
        would refresh is dismissed first. ("?" then "q q": the first q closed the help,
        and the second, waiting for the help screen's refresh, was never typed.)"""
        called = False

        def once() -> None:
            nonlocal called
            if not called:
                called = True
                callback()

        self.call_after_refresh(once)
        self.set_timer(REFRESH_FALLBACK_S, once)

    def replay_typed_key(self, key: events.Key) -> None:
        if not hasattr(self, "_typed_ahead"):
            self._typed_ahead = deque()
        self._typed_ahead.append(events.Key(key.key, key.character))
        if len(self._typed_ahead) == 1:
            self._settle_tries = 0
            self.after_refresh(self._replay)

    def holding_keys(self) -> bool:
        return bool(getattr(self, "_typed_ahead", None))

    def _focus_settled(self) -> bool:
        focused = self.focused
        return not self.switching and (focused is None or is_shown(focused))

    def recover_focus(self) -> None:
        """Focus is on a widget that is not shown and will not be: move it somewhere the
        operator can see (the App knows where; here, to the screen itself)."""
        self.screen.set_focus(None)

    def _replay(self) -> None:
        if not self._typed_ahead:
            return
        stuck = not self.switching and self._settle_tries >= RECOVER_REFRESHES
        if stuck and not self._focus_settled():
            self.recover_focus()
        if not self._focus_settled():
            self._settle_tries += 1
            if self._settle_tries < SETTLE_REFRESHES:
                self.after_refresh(self._replay)
            else:
                self._typed_ahead.clear()  # nowhere to go: dropped, never misapplied
                self.bell()
            return
        if self._unordered_in_flight:
            self.after_refresh(self._replay)  # the last one handed over comes first
            return
        target = self.focused or self.screen
        if isinstance(target, KeysInOrder):
            while self._typed_ahead:
                target._forward_event(self._typed_ahead.popleft())
            return
        self._hand_over_one(target, self._typed_ahead.popleft())
        if self._typed_ahead:
            self._settle_tries = 0
            self.after_refresh(self._replay)

    def _hand_over_one(self, target: Widget | Screen[object], key: events.Key) -> None:
        """One key to a widget that does not keep keys in order (a Select, a dialog's
        list or buttons, the screen itself); the next waits until it has been handled,
        so what this one does (close a list, move the focus) decides where that goes."""
        self._wait_for_unordered()
        target._forward_event(key)

    @property
    def _unordered_in_flight(self) -> bool:
        return self._unordered_wait > 0

    def _wait_for_unordered(self) -> None:
        if self._unordered_wait == 0:
            self.after_refresh(self._unordered_handled)
        self._unordered_wait = UNORDERED_REFRESHES

    def _unordered_handled(self) -> None:
        self._unordered_wait -= 1
        if self._unordered_wait > 0:
            self.after_refresh(self._unordered_handled)

    async def on_event(self, event: events.Event) -> None:
        if (
            isinstance(event, events.Key)
            and not event.is_forwarded
            and not self._is_priority_key(event.key)
        ):
            # A fresh key while older ones wait, or while the last went to a widget
            # that has not handled it yet, waits behind them.
            if self.holding_keys() or self._unordered_in_flight:
                self.replay_typed_key(event)
                return
            if not isinstance(self.focused or self.screen, KeysInOrder):
                # Handed over below, as Textual does (priority bindings, escape to
                # minimize); the next key waits until this one has been handled.
                self._wait_for_unordered()
        await super().on_event(event)

    def _is_priority_key(self, key: str) -> bool:
        active = self.screen.active_bindings.get(key)
        return active is not None and active.binding.priority


class TextInput(KeysInOrder, Input):
    """A one-line field that keeps a burst of keys in order.

    `on_submit` runs at Enter, before the next key is handled, instead of posting
    `Input.Submitted`: a focus it moves is where the keys typed after Enter go. (The
    message arrived after them, and "/err⏎tt" typed "tt" into the filter.)
    """

    def __init__(
        self, *args: Any, on_submit: Callable[[str], object] | None = None, **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        self._on_submit = on_submit

    async def action_submit(self) -> None:
        if self._on_submit is None:
            await super().action_submit()
        else:
            self._on_submit(self.value)
