"""Draw the import graph of vp3d's packages as ``docs/import-graph.svg``.

Each package sits on a row below every package it imports, so the picture reads top to bottom
the way the data flows (geometry, then anatomy, ... then the app and the command line); an
arrow runs from a package down to each package that uses it. Run from the checkout:
``python scripts/import_graph.py`` (``--check`` exits 1 if the committed picture is stale).
"""

from __future__ import annotations

import argparse
import sys
from html import escape
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
from tests.import_graph import package_graph  # noqa: E402  (the checkout's graph reader)

OUT = REPO / "docs" / "import-graph.svg"
BOX_W, BOX_H, GAP_X, GAP_Y, MARGIN = 150, 34, 28, 62, 24
#: What each package holds, in a few words (shown under its name).
ROLES = {
    "geometry": "SDF primitives, contouring", "paths": "where output goes",
    "anatomy": "morphometry, volume, body", "pathology": "fracture, kyphoplasty",
    "fluoro": "C-arm, X-ray images", "needle": "trajectory, safety",
    "cement": "filling, leaks", "meshing": "mesh cache, render",
    "storyboard": "scenes, narration", "practice": "student's needle",
    "procedure": "one choice's model", "quiz": "questions, images",
    "app": "trame page", "cli": "command line", "__main__": "python -m vp3d",
    "deploy": "workers behind HAProxy", "capacity": "memory per session",
    "busy_page": "the 503 page",
}


def rows(edges: dict[str, set[str]]) -> list[list[str]]:
    """Packages by row: row = 1 + the deepest row among the packages it imports."""
    depth: dict[str, int] = {}

    def level(name: str, seen: tuple[str, ...] = ()) -> int:
        if name in seen:
            raise ValueError(f"import cycle between packages: {' -> '.join(seen + (name,))}")
        if name not in depth:
            below = [level(t, seen + (name,)) for t in edges.get(name, ())]
            depth[name] = 1 + max(below, default=-1)
        return depth[name]

    for name in edges:
        level(name)
    out: list[list[str]] = [[] for _ in range(max(depth.values()) + 1)]
    for name in sorted(depth):
        out[depth[name]].append(name)
    return out


def draw(edges: dict[str, set[str]]) -> str:
    """The SVG text of the layered graph."""
    layers = rows(edges)
    width = MARGIN * 2 + max(len(r) for r in layers) * (BOX_W + GAP_X) - GAP_X
    height = MARGIN * 2 + len(layers) * (BOX_H + GAP_Y) - GAP_Y + 16
    where: dict[str, tuple[float, float]] = {}
    for r, names in enumerate(layers):
        row_w = len(names) * (BOX_W + GAP_X) - GAP_X
        x0 = (width - row_w) / 2
        for i, name in enumerate(names):
            where[name] = (x0 + i * (BOX_W + GAP_X), MARGIN + r * (BOX_H + GAP_Y))
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width:.0f}" height="{height:.0f}" '
             f'viewBox="0 0 {width:.0f} {height:.0f}" font-family="sans-serif" role="img" '
             f'aria-label="Import graph of the vp3d packages, read top to bottom">',
             '<defs><marker id="a" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="7" '
             'markerHeight="7" orient="auto"><path d="M0,0 L10,5 L0,10 z" fill="#667"/></marker></defs>',
             f'<rect width="{width:.0f}" height="{height:.0f}" fill="#ffffff"/>']
    for user in sorted(edges):
        for used in sorted(edges[user]):
            (x1, y1), (x2, y2) = where[used], where[user]
            ax, ay, bx, by = x1 + BOX_W / 2, y1 + BOX_H, x2 + BOX_W / 2, y2
            mid = (ay + by) / 2
            parts.append(f'<path d="M{ax:.0f},{ay:.0f} C{ax:.0f},{mid:.0f} {bx:.0f},{mid:.0f} '
                         f'{bx:.0f},{by:.0f}" fill="none" stroke="#889" stroke-opacity="0.55" '
                         f'marker-end="url(#a)"/>')
    for name, (x, y) in where.items():
        short = name.removeprefix("vp3d.")
        engine = short not in ("app", "cli", "__main__", "deploy")
        fill, stroke = ("#e8f0fb", "#3a6ea5") if engine else ("#fbeee6", "#b0623a")
        parts.append(f'<g><rect x="{x:.0f}" y="{y:.0f}" width="{BOX_W}" height="{BOX_H}" rx="7" '
                     f'fill="{fill}" stroke="{stroke}"/>'
                     f'<text x="{x + BOX_W / 2:.0f}" y="{y + 14:.0f}" text-anchor="middle" '
                     f'font-size="13" font-weight="bold" fill="#1a1a1a">{escape(short)}</text>'
                     f'<text x="{x + BOX_W / 2:.0f}" y="{y + 28:.0f}" text-anchor="middle" '
                     f'font-size="10" fill="#333">{escape(ROLES.get(short, ""))}</text></g>')
    parts.append(f'<text x="{MARGIN}" y="{height - 10:.0f}" font-size="11" fill="#333">Blue: engine '
                 'packages (no UI imports). Orange: the app, the command line and deploy. An arrow runs '
                 'from a package to each package that imports it.</text>')
    parts.append("</svg>")
    return "\n".join(parts) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="exit 1 if the committed picture is stale")
    args = parser.parse_args(argv)
    svg = draw(package_graph())
    if args.check:
        current = OUT.read_text() if OUT.exists() else ""
        if current != svg:
            print(f"{OUT.relative_to(REPO)} is stale: run python scripts/import_graph.py", file=sys.stderr)
            return 1
        return 0
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(svg)
    print(f"wrote {OUT.relative_to(REPO)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
