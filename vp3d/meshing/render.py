"""Offscreen pictures of a scene (VTK's EGL window: no display or GPU needed)."""

from __future__ import annotations

import os

os.environ.setdefault("VTK_DEFAULT_OPENGL_WINDOW", "vtkEGLRenderWindow")

import numpy as np  # noqa: E402
import pyvista as pv  # noqa: E402

from vp3d.anatomy.trunk import MESH_KINDS  # noqa: E402
from vp3d.meshing.cache import ScenePart  # noqa: E402
from vp3d.meshing.views import RENDER_VIEWS  # noqa: E402

COLORS = {
    "vertebra": "#ece4d0",
    "highlight": "#e8a33d",
    "disc": "#9cc3d9",
    "nucleus": "#5b8fb9",
    "cord": "#f1dd8a",
    "skin": "#d9b59a",
    "rib": "#d8ccb0",
    "pelvis": "#d8ccb0",
    "lung": "#e8a3b4",
    "vessel": "#c0504d",
    "organ": "#a0684a",
    "ligament": "#cdb38a",
}
#: The body around the spine (vp3d.anatomy.trunk): drawn faint, and only when asked for.
BODY_KINDS = tuple(MESH_KINDS)


def render_scene(parts: list[ScenePart], out: str, *, view: str = "lateral",
                 highlight: str | None = None, size: tuple[int, int] = (1200, 900),
                 show_skin: bool = False, show_body: bool = False) -> str:
    """Render ``parts`` from a named view into a PNG and return its path."""
    if view not in RENDER_VIEWS:
        raise ValueError(f"unknown view {view!r}; choose one of {', '.join(RENDER_VIEWS)}")
    plotter = pv.Plotter(off_screen=True, window_size=size)
    plotter.set_background("#1f2a36", top="#3d5066")
    focus = []
    for p in parts:
        if (p.kind == "skin" and not show_skin) or (p.kind in BODY_KINDS and not show_body):
            continue
        color = COLORS["highlight"] if p.name == highlight else COLORS[p.kind]
        opacity = 0.18 if p.kind == "skin" else 0.25 if p.kind in BODY_KINDS else 1.0
        plotter.add_mesh(p.mesh, color=color, smooth_shading=True, opacity=opacity,
                         specular=0.25, specular_power=20)
        if p.kind == "vertebra":
            focus.append(p.mesh.points.mean(axis=0))
    direction, up = (np.array(v) for v in RENDER_VIEWS[view])
    centre = np.mean(focus, axis=0) if focus else np.zeros(3)
    plotter.camera_position = [centre + 800 * direction, centre, up]
    plotter.reset_camera()
    plotter.camera.zoom(1.05)
    plotter.enable_anti_aliasing("ssaa")
    plotter.screenshot(out)
    plotter.close()
    return out
