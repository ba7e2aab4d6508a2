"""Per-session state and controller of the vp3d page (no layout here: see :mod:`vp3d.app.ui`).

One :class:`VertebroplastyApp` owns one trame server's state: the VTK scene (a render window
that is only serialised for the browser's vtk.js, never rendered on the server), the state
variables the page binds to, and the handlers that change them. Nothing is kept at module
level, so several apps (sessions) can live in one process, each on its own server.

Errors raised while handling a browser event are caught at that boundary: the message goes to
``state.error_message`` (shown by the page) and the session keeps running.
"""

from __future__ import annotations

import functools
import logging
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pyvista as pv
import vtkmodules.vtkRenderingOpenGL2  # noqa: F401  (OpenGL implementations of the classes below)
from trame.app import TrameApp
from trame.decorators import change, controller
from vtkmodules.vtkRenderingCore import vtkActor, vtkPolyDataMapper, vtkRenderer, vtkRenderWindow

logger = logging.getLogger(__name__)

TITLE = "vp3d — Vertebroplasty in 3D"
DEFAULT_TOP = "T10"
DEFAULT_BOTTOM = "L5"
DEFAULT_HIGHLIGHT = "L1"

PART_KINDS = ("vertebra", "disc", "nucleus", "cord", "skin")


@dataclass(frozen=True)
class Look:
    """How one kind of part is drawn: colour as ``#rrggbb``, opacity and a legend label."""

    color: str
    opacity: float
    label: str


LOOKS: dict[str, Look] = {
    "vertebra": Look("#ebe2cc", 1.0, "Bone"),
    "disc": Look("#9db9d8", 1.0, "Disc (annulus)"),
    "nucleus": Look("#7094c4", 1.0, "Nucleus pulposus"),
    "cord": Look("#f0e2a0", 1.0, "Thecal sac (cord)"),
    "skin": Look("#e3c2a8", 0.12, "Skin"),
}
SELECTED_COLOR = "#e39b2d"  # warm amber: the level being taught
HOVER_COLOR = "#f4cf8c"  # pale amber: the level under the pointer
BACKGROUND = "#1d232c"  # calm slate, so ivory bone stands out

_LEVEL_RE = re.compile(r"^([CTLS])(\d{1,2})$")
_REGION = {"C": "cervical", "T": "thoracic", "L": "lumbar", "S": "sacral"}


def describe_level(level: str) -> str:
    """Name a vertebral level in words: ``"L1"`` → ``"1st lumbar vertebra"``.

    Unknown labels are returned unchanged.
    """
    match = _LEVEL_RE.match(level)
    if not match:
        return level
    region, number = _REGION[match.group(1)], int(match.group(2))
    suffix = "th" if 10 <= number % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(number % 10, "th")
    return f"{number}{suffix} {region} vertebra"


def _rgb(hex_color: str) -> tuple[float, float, float]:
    value = hex_color.lstrip("#")
    return tuple(int(value[i : i + 2], 16) / 255.0 for i in (0, 2, 4))  # type: ignore[return-value]


def _default_mesh_loader(*, top: str, bottom: str) -> list[Any]:
    # Imported here so the app module loads (and reports a clear message) even when the
    # engine cannot build meshes.
    from vp3d.meshes import load_scene_meshes

    return load_scene_meshes(top=top, bottom=bottom)


def _light_polydata(mesh: pv.PolyData) -> pv.PolyData:
    """Copy of ``mesh`` with only what the browser needs: float32 points, triangles, normals."""
    if not mesh.is_all_triangles:
        mesh = mesh.triangulate()
    light = pv.PolyData(np.asarray(mesh.points, dtype=np.float32), faces=mesh.faces)
    normals = mesh.point_data.get("Normals")
    if normals is None:
        normals = mesh.point_normals
    light.point_data["Normals"] = np.asarray(normals, dtype=np.float32)
    light.point_data.active_normals_name = "Normals"
    return light


def _session_boundary(method: Callable[..., Any]) -> Callable[..., Any]:
    """Run a handler so that any error becomes a message on the page, not a dead session."""

    @functools.wraps(method)
    def guarded(self: VertebroplastyApp, *args: Any, **kwargs: Any) -> Any:
        try:
            return method(self, *args, **kwargs)
        except Exception as exc:  # noqa: BLE001 - this is the session boundary
            logger.exception("vp3d: %s failed", method.__name__)
            # Engine errors are ValueErrors written for the user; anything else names its type.
            message = str(exc) if isinstance(exc, ValueError) else f"{type(exc).__name__}: {exc}"
            self.show_error(message)
            return None

    return guarded


class VertebroplastyApp(TrameApp):
    """The vp3d page for one trame server (one browser session).

    Parameters
    ----------
    server : trame server or str or None
        Server (or its name) to attach to; ``None`` uses trame's default server.
    top, bottom : str
        First and last vertebral level of the scene, e.g. ``"T10"`` and ``"L5"``.
    highlight : str
        Level drawn in amber at start.
    mesh_loader : callable, optional
        ``mesh_loader(top=..., bottom=...) -> list[ScenePart]``; defaults to
        :func:`vp3d.meshes.load_scene_meshes`. Tests pass a small stand-in.
    """

    def __init__(
        self,
        server: Any = None,
        *,
        top: str = DEFAULT_TOP,
        bottom: str = DEFAULT_BOTTOM,
        highlight: str = DEFAULT_HIGHLIGHT,
        mesh_loader: Callable[..., Sequence[Any]] | None = None,
    ) -> None:
        super().__init__(server, client_type="vue3")
        self._mesh_loader = mesh_loader or _default_mesh_loader
        self._parts: dict[str, Any] = {}
        self._actors: dict[str, vtkActor] = {}

        self.renderer = vtkRenderer()
        self.renderer.SetBackground(*_rgb(BACKGROUND))
        self.render_window = vtkRenderWindow()
        self.render_window.SetOffScreenRendering(1)  # never shown on the server
        self.render_window.AddRenderer(self.renderer)

        self._init_state()
        self._build_ui()
        self.load_scene(top=top, bottom=bottom, highlight=highlight)

    # ------------------------------------------------------------------ state

    def _init_state(self) -> None:
        state = self.state
        state.trame__title = TITLE
        state.app_title = TITLE
        state.levels = []  # [{"name": "L1", "title": "1st lumbar vertebra"}, ...] top to bottom
        state.selected_level = None  # the level in amber
        state.hovered_level = None  # a level the pointer is on in the level bar
        state.show_skin = False
        state.error_message = ""
        state.scene_ready = False
        # The nucleus sits inside its disc and the skin is off by default: not in the legend.
        state.legend = [
            {"label": LOOKS["vertebra"].label, "color": LOOKS["vertebra"].color},
            {"label": "Selected level", "color": SELECTED_COLOR},
            {"label": LOOKS["disc"].label, "color": LOOKS["disc"].color},
            {"label": LOOKS["cord"].label, "color": LOOKS["cord"].color},
        ]
        state.selected_color = SELECTED_COLOR
        state.hover_color = HOVER_COLOR

    def _build_ui(self) -> None:
        from vp3d.app import ui

        self.ui = ui.build_ui(self)

    def show_error(self, message: str) -> None:
        """Show ``message`` on the page (the session keeps running)."""
        with self.state:
            self.state.error_message = message

    # ------------------------------------------------------------------ scene

    @_session_boundary
    def load_scene(self, *, top: str, bottom: str, highlight: str | None) -> None:
        """Replace the scene with the spine from ``top`` to ``bottom``, ``highlight`` in amber."""
        parts = list(self._mesh_loader(top=top, bottom=bottom))
        for part in parts:
            if part.kind not in PART_KINDS:
                raise ValueError(
                    f"unknown part kind {part.kind!r} for {part.name!r}; expected one of {PART_KINDS}"
                )
        levels = [part.level for part in parts if part.kind == "vertebra"]
        if not levels:
            raise ValueError(f"the scene {top}..{bottom} has no vertebra")
        if highlight is not None and highlight not in levels:
            raise ValueError(
                f"highlight level {highlight!r} is not in the scene; valid levels: {', '.join(levels)}"
            )

        self.renderer.RemoveAllViewProps()
        self._parts.clear()
        self._actors.clear()
        for part in parts:
            self._parts[part.name] = part
            self._actors[part.name] = self._make_actor(part)
            self.renderer.AddActor(self._actors[part.name])

        with self.state:
            self.state.levels = [{"name": level, "title": describe_level(level)} for level in levels]
            self.state.selected_level = highlight
            self.state.hovered_level = None
            self.state.error_message = ""
        self._apply_looks()
        self._set_default_camera()
        with self.state:
            self.state.scene_ready = True
        self.ctrl.view_update()
        self.ctrl.view_push_camera()

    def _make_actor(self, part: Any) -> vtkActor:
        mapper = vtkPolyDataMapper()
        mapper.SetInputData(_light_polydata(part.mesh))
        mapper.ScalarVisibilityOff()
        actor = vtkActor()
        actor.SetMapper(mapper)
        prop = actor.GetProperty()
        prop.SetInterpolationToPhong()
        prop.SetAmbient(0.12)
        prop.SetDiffuse(0.85)
        prop.SetSpecular(0.12)
        prop.SetSpecularPower(18)
        if part.kind == "skin":
            actor.SetVisibility(bool(self.state.show_skin))
        return actor

    def _apply_looks(self) -> None:
        selected, hovered = self.state.selected_level, self.state.hovered_level
        for name, part in self._parts.items():
            look = LOOKS[part.kind]
            color = look.color
            if part.kind == "vertebra" and part.level == selected:
                color = SELECTED_COLOR
            elif part.kind == "vertebra" and part.level == hovered:
                color = HOVER_COLOR
            prop = self._actors[name].GetProperty()
            prop.SetColor(*_rgb(color))
            prop.SetOpacity(look.opacity)

    def _set_default_camera(self) -> None:
        """Posterolateral view from the patient's left, cranial up, the whole spine in frame."""
        low, high = np.full(3, np.inf), np.full(3, -np.inf)
        for name, actor in self._actors.items():
            if self._parts[name].kind != "skin":
                bounds = np.asarray(actor.GetBounds())
                low, high = np.minimum(low, bounds[0::2]), np.maximum(high, bounds[1::2])
        center = (low + high) / 2
        height = high[2] - low[2]
        direction = np.array([-0.78, -0.52, 0.18])
        direction /= np.linalg.norm(direction)
        camera = self.renderer.GetActiveCamera()
        camera.SetViewAngle(30.0)
        distance = 0.5 * height / np.tan(np.radians(15.0)) * 1.18
        camera.SetFocalPoint(*center)
        camera.SetPosition(*(center + distance * direction))
        camera.SetViewUp(0.0, 0.0, 1.0)
        camera.OrthogonalizeViewUp()
        self.renderer.ResetCameraClippingRange()

    # ------------------------------------------------------------- handlers

    @change("selected_level", "hovered_level")
    @_session_boundary
    def _on_highlight_change(self, **_: Any) -> None:
        if not self._parts:
            return
        self._apply_looks()
        self.ctrl.view_update()

    @change("show_skin")
    @_session_boundary
    def _on_show_skin(self, show_skin: bool, **_: Any) -> None:
        for name, part in self._parts.items():
            if part.kind == "skin":
                self._actors[name].SetVisibility(bool(show_skin))
        if self._parts:
            self.ctrl.view_update()

    @controller.set("reset_camera")
    @_session_boundary
    def reset_camera(self) -> None:
        """Go back to the default view of the whole spine."""
        if not self._parts:
            return
        self._set_default_camera()
        self.ctrl.view_push_camera()

    @controller.set("select_level")
    @_session_boundary
    def select_level(self, level: str | None) -> None:
        """Draw ``level`` in amber (``None`` clears the selection)."""
        valid = [entry["name"] for entry in self.state.levels]
        if level is not None and level not in valid:
            raise ValueError(f"level {level!r} is not in the scene; valid levels: {', '.join(valid)}")
        with self.state:
            self.state.selected_level = level
