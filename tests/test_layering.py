"""The package layering: numerics/ <- theorems/, gpu_experiments/; no import cycles, deferred imports included.

Imports are read from the source (``ast``), so an import inside a function counts as much as one at
the top of a module: a cycle hidden behind a lazy import is still a cycle for a reader.
"""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("numerics", "theorems", "gpu_experiments")


def _modules(root: Path, packages) -> dict[str, Path]:
    out = {}
    for pkg in packages:
        for path in (root / pkg).rglob("*.py"):
            parts = path.relative_to(root).with_suffix("").parts
            out[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = path
    return out


def import_graph(root: Path = ROOT, packages=PACKAGES) -> dict[str, set[str]]:
    """Module -> the package modules it imports anywhere in its source (a package is its ``__init__``)."""
    modules = _modules(root, packages)
    graph: dict[str, set[str]] = {m: set() for m in modules}
    for mod, path in modules.items():
        base = mod.split(".") if path.name == "__init__.py" else mod.split(".")[:-1]
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom):
                target = node.module or ""
                if node.level:
                    target = ".".join(base[: len(base) - node.level + 1] + ([target] if target else []))
                # a name that is a submodule is an edge to it; any other name is read from `target` itself
                # (for a package, its __init__: a submodule that imports a name from its own package counts)
                candidates = [f"{target}.{a.name}" if f"{target}.{a.name}" in modules else target
                              for a in node.names]
            elif isinstance(node, ast.Import):
                candidates = [a.name for a in node.names]
            else:
                continue
            for c in candidates:
                while c and c not in modules:
                    c = c.rpartition(".")[0]
                if c and c != mod:
                    graph[mod].add(c)
    return graph


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan)."""
    index, low, stack, on_stack, out = {}, {}, [], set(), []

    def visit(v):
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in graph[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                out.append(sorted(comp))

    for v in graph:
        if v not in index:
            visit(v)
    return out


def test_no_import_cycles():
    assert cycles(import_graph()) == []


def test_numerics_imports_nothing_above_it_and_the_two_upper_packages_stay_apart():
    bad = [(m, t) for m, ts in import_graph().items() for t in ts
           if (m.startswith("numerics") and not t.startswith("numerics"))
           or {m.split(".")[0], t.split(".")[0]} == {"theorems", "gpu_experiments"}]
    assert bad == []


def test_the_cycle_finder_finds_a_cycle():
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    assert cycles({"a": {"b"}, "b": set()}) == []


def test_the_graph_sees_relative_and_deferred_imports():
    graph = import_graph()
    assert "theorems.statement" in graph["theorems.inequality"]
    assert "numerics.hessian.lanczos" in graph["numerics.hessian.entropy_gap"]  # `from .lanczos import ...`


def cross_item_imports(graph: dict[str, set[str]], items: list[str]) -> list[tuple[str, str]]:
    """Imports from one paper item's module (or subpackage) into another's."""
    def item(m):  # theorems.seed_002.sign belongs to the item theorems.seed_002
        return next((s for s in items if m == s or m.startswith(s + ".")), None)

    return [(m, t) for m, ts in graph.items() for t in ts if item(m) and item(t) and item(m) != item(t)]


def test_statement_modules_do_not_import_each_other():
    """What two paper items share lives in its own module, not in one of the items."""
    from theorems.registry import MODULES

    assert cross_item_imports(import_graph(), MODULES) == []
    # it would see the import that sec_4_1 once made from prop_4_5, and not a package's own submodule
    items = ["theorems.prop_4_5", "theorems.sec_4_1", "theorems.seed_002"]
    assert cross_item_imports({"theorems.sec_4_1": {"theorems.prop_4_5"}}, items) == [
        ("theorems.sec_4_1", "theorems.prop_4_5")]
    assert cross_item_imports({"theorems.seed_002": {"theorems.seed_002.sign"}}, items) == []


def test_a_submodule_importing_from_its_own_package_init_is_a_cycle(tmp_path):
    pkg = tmp_path / "pkg"
    pkg.mkdir()
    (pkg / "__init__.py").write_text("from pkg.a import f\nX = 1\n")
    (pkg / "a.py").write_text("def f():\n    from pkg import X\n    return X\n")
    (pkg / "b.py").write_text("from pkg import a\n")  # a submodule name: an edge to pkg.a, not to pkg
    graph = import_graph(tmp_path, ("pkg",))
    assert graph["pkg.b"] == {"pkg.a"}
    assert cycles(graph) == [["pkg", "pkg.a"]]
