"""The import graph of every module under ``vp3d/``, read from the source: no cycles, and the
engine (everything outside ``vp3d.app``) never imports the app or trame.

Every import counts, inside functions too (a late import is still a dependency); only
``if TYPE_CHECKING:`` blocks are left out, as they never run.
"""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "vp3d"
UI_ROOTS = ("trame", "trame_vtk", "trame_vuetify", "trame_client", "trame_server", "wslink")
#: The command line sits above both: it may start the app.
ENTRY_POINTS = ("vp3d.cli", "vp3d.__main__")


def _module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _modules() -> dict[str, Path]:
    return {_module_name(p): p for p in sorted(PACKAGE.rglob("*.py"))}


def _imports(path: Path, name: str, known: set[str]) -> set[str]:
    """Modules ``name`` imports anywhere in its source (module level or inside functions),
    resolved; ``if TYPE_CHECKING:`` blocks are skipped, as they never run."""
    tree = ast.parse(path.read_text(), filename=str(path))
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    out: set[str] = set()

    def visit(node):
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            for child in node.orelse:
                visit(child)
            return
        if isinstance(node, ast.Import):
            out.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - node.level + 1]
                module = ".".join(base + ([node.module] if node.module else []))
            else:
                module = node.module or ""
            # "from vp3d.app import ui" imports the module ui (and its package, first);
            # a name that is not a module comes from the package's own namespace.
            subs = [f"{module}.{alias.name}" for alias in node.names]
            out.update(sub for sub in subs if sub in known)
            if any(sub not in known for sub in subs):
                out.add(module)
        for child in ast.iter_child_nodes(node):
            visit(child)

    visit(tree)
    return out


def graph() -> dict[str, set[str]]:
    """vp3d module -> the vp3d modules (and outside modules) it imports."""
    modules = _modules()
    known = set(modules)
    edges = {}
    for name, path in modules.items():
        imported = _imports(path, name, known)
        resolved = set()
        for target in imported:
            if target in known:
                resolved.add(target)
            elif target.split(".")[0] == "vp3d":
                # "from vp3d.x import y" where y is a name: the module x (or its package).
                parts = target.split(".")
                while parts and ".".join(parts) not in known:
                    parts.pop()
                if parts:
                    resolved.add(".".join(parts))
            else:
                resolved.add(target)
        # Importing a submodule imports its packages first.
        for target in list(resolved):
            parts = target.split(".")
            for i in range(1, len(parts)):
                parent = ".".join(parts[:i])
                if parent in known and parent != name and not name.startswith(parent + "."):
                    resolved.add(parent)
        resolved.discard(name)
        edges[name] = resolved
    return edges


def _cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected groups of more than one module (Tarjan)."""
    index, low, stack, on, out = {}, {}, [], set(), []
    counter = [0]

    def strong(v):
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        for w in edges.get(v, ()):
            if w not in edges:
                continue
            if w not in index:
                strong(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            group = []
            while True:
                w = stack.pop()
                on.discard(w)
                group.append(w)
                if w == v:
                    break
            if len(group) > 1:
                out.append(sorted(group))

    for v in edges:
        if v not in index:
            strong(v)
    return out


def test_every_module_is_in_the_graph():
    edges = graph()
    assert len(edges) >= 40 and "vp3d.app.core" in edges and "vp3d.anatomy.spine" in edges


def test_no_import_cycles_anywhere():
    assert _cycles(graph()) == []


def test_the_engine_never_imports_the_app_or_trame():
    bad = {name: sorted(t for t in targets if t.startswith("vp3d.app") or t.split(".")[0] in UI_ROOTS)
           for name, targets in graph().items() if not name.startswith("vp3d.app") and name not in ENTRY_POINTS}
    assert {k: v for k, v in bad.items() if v} == {}


def test_the_cycle_finder_finds_a_cycle():
    assert _cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
