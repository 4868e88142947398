"""The architecture as docs/ARCHITECTURE.md draws it, kept true by tests.

- Views, commands and the session ask a backend what it can do (`capabilities`), never
  what it is: no module outside `goatui.core.backends` names a backend class.
- No import circles: every runtime import (also one inside a function) goes one way.
- Tests share helpers through `tests/helpers/`, not through conftest or each other.
"""

from __future__ import annotations

import ast
import importlib
import pkgutil
import re
from collections.abc import Iterator
from pathlib import Path

import goatui
import goatui.core.backends
from goatui.core.backends.base import Backend

PACKAGE = Path(goatui.__file__).resolve().parent
TESTS = Path(__file__).resolve().parent


def goatui_modules() -> dict[str, Path]:
    """Every module of goatui by dotted name (the generated gRPC stubs left out)."""
    modules = {}
    for path in PACKAGE.rglob("*.py"):
        parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
        if parts[-1] == "__init__":
            parts = parts[:-1]
        name = ".".join(parts)
        if not name.startswith("goatui.proto"):
            modules[name] = path
    return modules


def backend_classes() -> set[type[Backend]]:
    for info in pkgutil.walk_packages(goatui.core.backends.__path__, "goatui.core.backends."):
        importlib.import_module(info.name)
    found: set[type[Backend]] = set()
    todo = [Backend]
    while todo:
        for sub in todo.pop().__subclasses__():
            if sub.__module__.startswith("goatui.core.backends.") and sub not in found:
                found.add(sub)
                todo.append(sub)
    return found


def test_only_the_backends_name_a_backend_class() -> None:
    classes = backend_classes()
    assert {c.__name__ for c in classes} >= {"SocketBackend", "GatewayBackend", "FleetBackend"}
    pattern = re.compile(r"\b(" + "|".join(sorted(c.__name__ for c in classes)) + r")\b")
    offenders = [
        f"{name}: {match.group(1)}"
        for name, path in goatui_modules().items()
        if not name.startswith("goatui.core.backends")
        for match in pattern.finditer(path.read_text())
    ]
    assert not offenders, "ask backend.capabilities instead of naming a backend:\n" + "\n".join(
        offenders
    )


def _runtime_imports(tree: ast.AST) -> Iterator[ast.Import | ast.ImportFrom]:
    """Imports that run (at module level or inside functions), not `if TYPE_CHECKING:`."""
    for node in ast.iter_child_nodes(tree):
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            yield from (n for s in node.orelse for n in _runtime_imports_of(s))
            continue
        yield from _runtime_imports_of(node)


def _runtime_imports_of(node: ast.AST) -> Iterator[ast.Import | ast.ImportFrom]:
    if isinstance(node, ast.Import | ast.ImportFrom):
        yield node
    else:
        yield from _runtime_imports(node)


def import_graph() -> dict[str, set[str]]:
    modules = goatui_modules()
    graph: dict[str, set[str]] = {name: set() for name in modules}
    for name, path in modules.items():
        package = name if path.name == "__init__.py" else name.rpartition(".")[0]
        for node in _runtime_imports(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                targets = [alias.name for alias in node.names]
            else:
                base = node.module or ""
                if node.level:
                    anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                    base = ".".join([*anchor, base] if base else anchor)
                # `from package import module` imports the module.
                targets = [f"{base}.{a.name}" for a in node.names if f"{base}.{a.name}" in modules]
                targets = targets or [base]
            graph[name] |= {t for t in targets if t in modules and t != name}
    return graph


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for nxt in sorted(graph[node]):
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            component = []
            while True:
                top = stack.pop()
                on_stack.discard(top)
                component.append(top)
                if top == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def test_no_import_circles() -> None:
    graph = import_graph()
    # The graph is real: lazy imports inside functions count too.
    assert "goatui.core.session" in graph["goatui.cli.common"]
    assert "goatui.core.hosting.host" in graph["goatui.core.session"]
    assert cycles(graph) == []


def test_the_cycle_finder_finds_a_cycle() -> None:
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}
    assert cycles(graph) == [["a", "b", "c"]]


def test_the_core_does_not_import_the_interfaces() -> None:
    graph = import_graph()
    offenders = [
        f"{name} -> {target}"
        for name, targets in graph.items()
        if name.startswith("goatui.core")
        for target in targets
        if target.startswith(("goatui.ui", "goatui.cli"))
    ]
    assert offenders == []


def test_tests_share_helpers_through_the_helpers_package() -> None:
    offenders = [
        f"{path.name}: {line.strip()}"
        for path in sorted(TESTS.glob("*.py"))
        for line in path.read_text().splitlines()
        if re.match(r"\s*(from|import) (conftest|test_\w+)\b", line)
    ]
    assert offenders == []


def _event_loops_started(tree: ast.AST, inside_signal_exit: bool = False) -> Iterator[bool]:
    """For each `asyncio.run(...)`: whether it runs inside `with SignalExit(...)`."""
    for node in ast.iter_child_nodes(tree):
        inside = inside_signal_exit
        if isinstance(node, ast.With):
            inside = inside or any(
                isinstance(item.context_expr, ast.Call)
                and ast.unparse(item.context_expr.func) == "SignalExit"
                for item in node.items
            )
        if isinstance(node, ast.Call) and ast.unparse(node.func) == "asyncio.run":
            yield inside
        yield from _event_loops_started(node, inside)


def test_every_event_loop_ends_on_signals_through_itself() -> None:
    """A command that called asyncio.run itself would end on SIGTERM by an exception
    raised at an arbitrary point (a segfault inside grpc.aio; goatui.core.signals)."""
    found = {
        name: list(_event_loops_started(ast.parse(path.read_text())))
        for name, path in goatui_modules().items()
    }
    assert found["goatui.cli.common"] == [True] and found["goatui.ui.app"] == [True]
    offenders = [name for name, loops in found.items() if not all(loops)]
    assert offenders == [], "run commands through goatui.cli.common.run_command"
