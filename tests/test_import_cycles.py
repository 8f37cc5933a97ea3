"""No import cycle among leadpact's modules: every module knows which rooms it stands on, never in a circle.

The graph is read from the source with :mod:`ast` — every ``import`` counts, also one inside a function or
under ``if TYPE_CHECKING:`` (a lazy import that dodges a cycle at run time is still a cycle in the design).
"""

from __future__ import annotations

import ast
from pathlib import Path

import leadpact

ROOT = Path(leadpact.__file__).parent


def _modules(root: Path) -> dict[str, Path]:
    found = {}
    for path in root.rglob("*.py"):
        parts = list(path.relative_to(root.parent).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        found[".".join(parts)] = path
    return found


def import_graph(root: Path) -> dict[str, set[str]]:
    """Module → the package's modules it imports (a name imported from a module counts as that module)."""
    modules = _modules(root)

    def known(name: str) -> str | None:
        while name and name not in modules:
            name = name.rpartition(".")[0]
        return name or None

    graph: dict[str, set[str]] = {}
    for name, path in modules.items():
        package = name if path.name == "__init__.py" else name.rpartition(".")[0]
        targets: set[str] = set()
        for node in ast.walk(ast.parse(path.read_text("utf-8"), str(path))):
            if isinstance(node, ast.Import):
                targets.update(t for a in node.names if (t := known(a.name)))
            elif isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:
                    parts = package.split(".")
                    parts = parts[: len(parts) - node.level + 1]
                    base = ".".join([*parts, base] if base else parts)
                for alias in node.names:
                    target = known(f"{base}.{alias.name}") or known(base)
                    if target:
                        targets.add(target)
        targets.discard(name)
        graph[name] = targets
    return graph


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components with more than one module (Tarjan, iterative), each sorted."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    for start in sorted(graph):
        if start in index:
            continue
        work = [(start, iter(sorted(graph[start])))]
        index[start] = low[start] = len(index)
        stack.append(start)
        on_stack.add(start)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = len(index)
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph.get(child, ())))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                component = []
                while True:
                    item = stack.pop()
                    on_stack.discard(item)
                    component.append(item)
                    if item == node:
                        break
                if len(component) > 1:
                    found.append(sorted(component))
    return found


def test_leadpact_has_no_import_cycle():
    assert cycles(import_graph(ROOT)) == []


def test_the_graph_sees_every_kind_of_import(tmp_path):
    pkg = tmp_path / "pkg"
    (pkg / "room").mkdir(parents=True)
    (pkg / "__init__.py").write_text("")
    (pkg / "room" / "__init__.py").write_text("")
    (pkg / "room" / "a.py").write_text("from pkg.room import b\n")
    (pkg / "room" / "b.py").write_text("def f():\n    from .c import thing\n")
    (pkg / "room" / "c.py").write_text(
        "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    import pkg.room.a\n"
    )
    (pkg / "d.py").write_text("from pkg.room.a import name\n")
    graph = import_graph(pkg)
    assert graph["pkg.room.a"] == {"pkg.room.b"}
    assert graph["pkg.room.b"] == {"pkg.room.c"}
    assert graph["pkg.d"] == {"pkg.room.a"}
    assert cycles(graph) == [["pkg.room.a", "pkg.room.b", "pkg.room.c"]]
    (pkg / "room" / "c.py").write_text("thing = 1\n")
    assert cycles(import_graph(pkg)) == []
