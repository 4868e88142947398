"""The operator's own keys: `[keys]` in the config rebinds any binding by its id.

Every binding of the console has an id (`app.quit`, `plugins.logs`, `list.down`…;
the help screen, `?`, lists them beside the keys in force). The table is handed to
Textual's keymap (`App.set_keymap`), which then binds those ids to the keys given
instead of their own:

    [keys]
    "app.quit" = "ctrl+x"
    "plugins.invoke" = "i,enter,o"

An id nobody has is said once, as is a key given to two bindings at once (the one
rebound wins). The config is read again when the context switcher opens, and the keys
with it.
"""

from __future__ import annotations

import importlib
from collections.abc import Iterable, Mapping

from textual.binding import Binding, BindingType

# Every class whose BINDINGS the operator may rebind, as "module:Class" (imported only
# when a [keys] table has to be checked: the views load lazily).
_BINDING_CLASSES = (
    "goatui.ui.views.plugins:PluginsView",
    "goatui.ui.views.invoke:InvokeView",
    "goatui.ui.views.widgets:WidgetsView",
    "goatui.ui.views.widgets:WidgetPanel",
    "goatui.ui.views.jobs:JobsView",
    "goatui.ui.views.logs:LogsView",
    "goatui.ui.views.logs:LogLines",
    "goatui.ui.widgets.function_input:FunctionInput",
    "goatui.ui.widgets.result_viewer:ResultViewer",
    "goatui.ui.widgets.search_bar:SearchBar",
    "goatui.ui.widgets.row_table:RowTable",
    "goatui.ui.widgets.line_view:LineView",
    "goatui.ui.widgets.command_line:CommandLine",
    "goatui.ui.scrolling:VimScroll",
    "goatui.ui.scrolling:VimOptionList",
    "goatui.ui.screens.help:HelpScreen",
    "goatui.ui.screens.history:HistoryScreen",
    "goatui.ui.screens.confirm:ConfirmScreen",
    "goatui.ui.screens.contexts:ContextScreen",
    "goatui.ui.screens.audit:AuditScreen",
    "goatui.ui.screens.diff:DiffScreen",
    "goatui.ui.screens.job_result:JobResultScreen",
    "goatui.ui.screens.save:SavePrompt",
    "goatui.ui.screens.attach_host:AttachHostScreen",
)


def bindings_of(items: Iterable[BindingType]) -> list[Binding]:
    return [b for b in items if isinstance(b, Binding)]


def known_bindings(app_bindings: Iterable[BindingType] = ()) -> dict[str, Binding]:
    """Every binding id the console has (the App's own given), with its binding."""
    known: dict[str, Binding] = {b.id: b for b in bindings_of(app_bindings) if b.id}
    for where in _BINDING_CLASSES:
        module, _, name = where.partition(":")
        cls = getattr(importlib.import_module(module), name)
        for binding in bindings_of(cls.BINDINGS):
            if binding.id is not None:
                known.setdefault(binding.id, binding)
    return known


def checked_keymap(
    keys: Mapping[str, str], app_bindings: Iterable[BindingType] = ()
) -> tuple[dict[str, str], list[str]]:
    """The [keys] table's entries for binding ids that exist, and the ids that do not."""
    if not keys:
        return {}, []
    known = known_bindings(app_bindings)
    return (
        {binding_id: key for binding_id, key in keys.items() if binding_id in known},
        [binding_id for binding_id in keys if binding_id not in known],
    )


def in_force(binding: Binding, keymap: Mapping[str, str]) -> Binding:
    """The binding with the keys it answers to now: the keymap's for its id, else its own."""
    if binding.id and binding.id in keymap:
        return binding.with_key(keymap[binding.id])
    return binding
