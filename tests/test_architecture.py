"""The imports run one way: each package of ``gridmap`` sits on a floor and imports only its own
package and the floors below; no module imports itself round a cycle; ``gridmap`` never imports
``api``. docs/architecture.md draws the same floors.

The imports are read from the source (every ``import``, also those under ``TYPE_CHECKING`` or
inside a function), so a new edge fails here before it is run.
"""

from __future__ import annotations

import ast
from functools import cache
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

FLOORS: tuple[frozenset[str], ...] = tuple(
    frozenset(names.split())
    for names in (
        "__init__ errors config parallel",  # the ground: errors, settings, threads
        "standards crs geometry network alignment",  # pure: numbers and shapes
        "db",  # the database layer: SQL, models, migrations, the embedded cluster
        "auth units features tiles plans coverage tickets",  # one question each, over the db
        "io synth partition",  # imports, the synthetic city, re-partitioning
        "stations jobs reports",  # what combines them
        "demo",  # the demo city: the whole recipe
        "cli",  # the command line
    )
)
FLOOR = {package: level for level, names in enumerate(FLOORS) for package in names}


def modules(top: str) -> dict[str, Path]:
    """Every module under ``top`` (a folder of the repository), by dotted name."""
    found = {}
    for path in sorted((ROOT / top).rglob("*.py")):
        parts = path.relative_to(ROOT).with_suffix("").parts
        if "migrations" in parts:
            continue
        found[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = path
    return found


@cache
def imports_of(path: Path, name: str) -> frozenset[str]:
    """The modules ``path`` (module ``name``) imports, absolute and relative alike (each file
    read once per session; every test builds its own graph from them)."""
    found: set[str] = set()
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, base] if base else anchor)
            found.add(base)
            found |= {f"{base}.{alias.name}" for alias in node.names}  # a module imported by name
    return frozenset(found)


def graph(top: str) -> dict[str, set[str]]:
    """Module → the modules of the project it imports."""
    known = modules(top) | modules("api")
    return {
        name: {other for other in imports_of(path, name) if other in known and other != name}
        for name, path in known.items()
    }


def package_of(module: str) -> str:
    """``gridmap.db.plans`` → ``db``; ``gridmap.crs`` → ``crs``; ``api.main`` → ``api``."""
    parts = module.split(".")
    return parts[0] if parts[0] != "gridmap" else (parts[1] if len(parts) > 1 else "__init__")


def test_every_package_sits_on_a_floor() -> None:
    packages = {package_of(m) for m in modules("gridmap")}
    assert packages <= set(FLOOR), f"put these on a floor: {sorted(packages - set(FLOOR))}"


def upward(edges: dict[str, set[str]]) -> list[str]:
    """The imports that run upward or sideways between packages, or from gridmap into api."""
    wrong = []
    for module, targets in edges.items():
        if not module.startswith("gridmap"):
            continue
        here = package_of(module)
        for target in sorted(targets):
            there = package_of(target)
            if there == "api":
                wrong.append(f"{module} imports {target}: the library never imports the app")
            elif there != here and FLOOR.get(there, 99) >= FLOOR.get(here, 99):
                wrong.append(
                    f"{module} ({here}, floor {FLOOR.get(here)}) imports {target} "
                    f"({there}, floor {FLOOR.get(there)})"
                )
    return wrong


def cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    """The import cycles among modules (Tarjan's strongly connected components)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for other in edges.get(node, ()):
            if other not in index:
                visit(other)
                low[node] = min(low[node], low[other])
            elif other in on_stack:
                low[node] = min(low[node], index[other])
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

    for node in sorted(edges):
        if node not in index:
            visit(node)
    return found


def test_imports_run_down_the_floors() -> None:
    assert upward(graph("gridmap")) == []


def test_no_module_imports_itself_round_a_cycle() -> None:
    assert cycles(graph("gridmap")) == []


@pytest.mark.parametrize(
    ("edge", "finds"),
    [
        (("gridmap.db.plans", "gridmap.io.read"), upward),  # the db layer importing an import
        (("gridmap.crs", "gridmap.db.engine"), upward),  # a pure helper reaching for the db
        (("gridmap.units.service", "gridmap.coverage.service"), upward),  # sideways
        (("gridmap.tiles.service", "api.main"), upward),
        (("gridmap.tiles.statement", "gridmap.tiles.service"), cycles),  # within a package
    ],
)
def test_the_checks_find_a_planted_edge(edge: tuple[str, str], finds) -> None:  # type: ignore[no-untyped-def]
    edges = graph("gridmap")
    assert not finds(edges)
    source, target = edge
    edges[source] = edges[source] | {target}
    assert finds(edges)
