"""The import graph of every module under ``vp3d/``, read from the source (shared by
``tests/test_import_graph.py`` and ``scripts/import_graph.py``, which draws it).

Every import counts, inside functions too (a late import is still a dependency); only
``if TYPE_CHECKING:`` blocks are left out, as they never run.
"""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "vp3d"


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




def package_of(module: str) -> str:
    """``vp3d.anatomy.spine`` -> ``vp3d.anatomy``; top-level modules are their own package."""
    parts = module.split(".")
    return ".".join(parts[:2])


def package_graph(edges: dict[str, set[str]] | None = None) -> dict[str, set[str]]:
    """vp3d package (or top-level module) -> the vp3d packages it imports."""
    edges = graph() if edges is None else edges
    out: dict[str, set[str]] = {}
    for name, targets in edges.items():
        source = package_of(name)
        out.setdefault(source, set()).update(
            package_of(t) for t in targets if t.startswith("vp3d.") and package_of(t) != source)
    out.pop("vp3d", None)
    for targets in out.values():
        targets.discard("vp3d")
    return out
