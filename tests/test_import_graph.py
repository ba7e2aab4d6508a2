"""The import graph of every module under ``vp3d/``, read from the source: no cycles, and the
engine (everything outside ``vp3d.app``) never imports the app or trame.

Every import counts, inside functions too (a late import is still a dependency); only
``if TYPE_CHECKING:`` blocks are left out, as they never run.
"""

from __future__ import annotations

from tests.import_graph import graph, package_graph

UI_ROOTS = ("trame", "trame_vtk", "trame_vuetify", "trame_client", "trame_server", "wslink")
#: The command line sits above both: it may start the app.
ENTRY_POINTS = ("vp3d.cli", "vp3d.__main__")


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


def test_packages_import_one_way():
    """Packages too form no cycle: each can sit below every package it imports."""
    assert _cycles(package_graph()) == []


def test_the_drawn_import_graph_is_current():
    """docs/import-graph.svg is what scripts/import_graph.py draws from today's source."""
    import subprocess
    import sys
    from pathlib import Path

    repo = Path(__file__).resolve().parents[1]
    r = subprocess.run([sys.executable, "scripts/import_graph.py", "--check"], cwd=repo,
                       capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr
