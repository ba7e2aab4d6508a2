"""The 3D scene of one session: VTK actors for the engine's meshes, their looks, the camera.

The render window is never drawn on the server: trame-vtk serialises it for vtk.js in the
browser (client-side rendering). So everything shown in 3D is geometry and colour; text goes
in the page (Vuetify), as vtk.js drops VTK text actors.

Each engine part is one actor; the needles, the cement and the balloons are their own actors,
made when a frame first has them. A frame replaces the fractured level's mesh (the collapse
animates by new points, same triangles) and moves the parts above it by a user matrix.
"""

from __future__ import annotations


from dataclasses import dataclass
from typing import Any, Mapping

import numpy as np
import pyvista as pv
import vtkmodules.vtkRenderingOpenGL2  # noqa: F401  (OpenGL implementations of the classes below)
from vtkmodules.util import numpy_support
from vtkmodules.vtkCommonDataModel import vtkPolyData
from vtkmodules.vtkCommonMath import vtkMatrix4x4
from vtkmodules.vtkRenderingCore import vtkActor, vtkPolyDataMapper, vtkRenderer, vtkRenderWindow

from vp3d.storyboard import CAMERA_PRESETS, Camera


@dataclass(frozen=True)
class Look:
    """Colour (``#rrggbb``), opacity when shown and when translucent, and a legend label."""

    color: str
    opacity: float
    translucent: float
    label: str
    specular: float = 0.12


LOOKS: dict[str, Look] = {
    "vertebrae": Look("#ebe2cc", 1.0, 0.25, "Bone"),
    "level": Look("#e39b2d", 1.0, 0.35, "The level being treated"),
    "discs": Look("#9db9d8", 1.0, 0.25, "Disc"),
    "nuclei": Look("#7094c4", 1.0, 0.3, "Disc centre"),
    "cord": Look("#f0e2a0", 1.0, 0.3, "Spinal cord and nerves"),
    "skin": Look("#d9b79c", 0.92, 0.16, "Skin"),
    "needle": Look("#c9ced6", 1.0, 0.4, "Needle", specular=0.6),
    "cement": Look("#5fd0e8", 1.0, 0.5, "Bone cement"),
    "balloon": Look("#7aa7ff", 0.7, 0.4, "Balloon"),
}
KIND_GROUP = {"vertebra": "vertebrae", "disc": "discs", "nucleus": "nuclei", "cord": "cord",
              "skin": "skin"}
TOOL_PARTS = {"needle 1": "needle", "needle 2": "needle", "cement": "cement",
              "balloon 1": "balloon", "balloon 2": "balloon"}
BACKGROUND = "#1d232c"


def rgb(hex_color: str) -> tuple[float, float, float]:
    value = hex_color.lstrip("#")
    return tuple(int(value[i : i + 2], 16) / 255.0 for i in (0, 2, 4))  # type: ignore[return-value]


def light_polydata(mesh: pv.PolyData) -> pv.PolyData:
    """Copy of ``mesh`` with only what the browser needs: float32 points, triangles, normals."""
    if not mesh.is_all_triangles:
        mesh = mesh.triangulate()
    light = pv.PolyData(np.asarray(mesh.points, dtype=np.float32), faces=mesh.faces)
    normals = mesh.point_data.get("Normals")
    if normals is None:
        normals = mesh.point_normals
    # Degenerate triangles (a balloon starting to fill) give NaN normals, which the browser
    # cannot parse: send zeros there instead.
    array = numpy_support.numpy_to_vtk(np.nan_to_num(np.asarray(normals, dtype=np.float32)), deep=True)
    array.SetName("Normals")
    # Normals only: no active scalars, or the browser may colour the surface through a
    # lookup table (a red-to-green skin) instead of using the actor's colour.
    light.GetPointData().SetNormals(array)
    light.GetPointData().SetScalars(None)
    return light


class Scene3D:
    """Actors of one session's scene and the camera that frames it."""

    def __init__(self) -> None:
        self.renderer = vtkRenderer()
        self.renderer.SetBackground(*rgb(BACKGROUND))
        self.render_window = vtkRenderWindow()
        self.render_window.SetOffScreenRendering(1)  # never shown on the server
        self.render_window.AddRenderer(self.renderer)
        self.actors: dict[str, vtkActor] = {}
        self.groups: dict[str, str] = {}  # actor name -> part group
        self.level: str | None = None
        self.level_centre = np.zeros(3)
        self.spine_centre = np.zeros(3)
        self._moved: set[str] = set()
        # The browser knows VTK objects by their memory address (trame-vtk's reference ids).
        # A freed object lets a new one of another class take its address, and the page then
        # applies calls meant for one to the other ("... is not a function"). So each actor
        # keeps one data object and one matrix for life, updated in place, and the objects of
        # a replaced scene are kept rather than freed.
        self._data: dict[str, vtkPolyData] = {}
        self._matrices: dict[str, vtkMatrix4x4] = {}
        self._retired: list = []

    # -------------------------------------------------------------- building
    def load(self, parts, level: str, level_centre_mm) -> None:
        """Replace every actor with the engine's scene ``parts`` around ``level``."""
        self._retired.append((dict(self.actors), dict(self._data), dict(self._matrices)))
        self.renderer.RemoveAllViewProps()
        self.actors.clear()
        self._data.clear()
        self._matrices.clear()
        self.groups.clear()
        self._moved.clear()
        self.level = level
        low, high = np.full(3, np.inf), np.full(3, -np.inf)
        for part in parts:
            group = "level" if part.kind == "vertebra" and part.level == level else KIND_GROUP.get(part.kind)
            if group is None:
                raise ValueError(f"unknown part kind {part.kind!r} for {part.name!r}")
            self._add(part.name, group, part.mesh)
            if part.kind == "vertebra":
                b = np.asarray(part.mesh.bounds)
                low, high = np.minimum(low, b[0::2]), np.maximum(high, b[1::2])
        self.level_centre = np.asarray(level_centre_mm, dtype=float)
        self.spine_centre = (low + high) / 2 if np.isfinite(low).all() else self.level_centre

    def _add(self, name: str, group: str, mesh: pv.PolyData | None) -> vtkActor:
        mapper = vtkPolyDataMapper()
        data = vtkPolyData()
        if mesh is not None:
            data.ShallowCopy(light_polydata(mesh))
        mapper.SetInputData(data)
        self._data[name] = data
        mapper.ScalarVisibilityOff()
        actor = vtkActor()
        actor.SetMapper(mapper)
        prop = actor.GetProperty()
        prop.SetInterpolationToPhong()
        prop.SetAmbient(0.15)
        prop.SetDiffuse(0.85)
        look = LOOKS[group]
        prop.SetSpecular(look.specular)
        prop.SetSpecularPower(20)
        prop.SetColor(*rgb(look.color))
        self.renderer.AddActor(actor)
        self.actors[name] = actor
        self.groups[name] = group
        return actor

    # -------------------------------------------------------------- a frame
    def apply(self, frame: Any, visible: Mapping[str, str], *, section: bool = False) -> None:
        """Show ``frame`` (a :class:`vp3d.session.Frame`) with the step's ``visible`` modes."""
        for name, mesh in frame.meshes.items():
            if mesh is None or mesh.n_points == 0:
                continue  # nothing to draw yet (a first drop of cement): the actor stays hidden
            if name in TOOL_PARTS and name not in self.actors:
                self._add(name, TOOL_PARTS[name], None)
            if name in self.actors:
                self._data[name].ShallowCopy(light_polydata(mesh))
                self._data[name].Modified()
        moved = set(frame.transforms)
        for name in moved | self._moved:
            if name in self.actors:
                m = frame.transforms.get(name)
                if m is None:
                    self.actors[name].SetUserMatrix(None)
                    continue
                matrix = self._matrices.setdefault(name, vtkMatrix4x4())
                for i in range(4):
                    for j in range(4):
                        matrix.SetElement(i, j, float(m[i, j]))
                self.actors[name].SetUserMatrix(matrix)
        self._moved = moved
        for name, actor in self.actors.items():
            group = self.groups[name]
            mode = visible.get(name, visible.get(group, "shown"))
            if section and group != "level":
                mode = "hidden"
            mesh = frame.meshes.get(name)
            if name in TOOL_PARTS and (mesh is None or mesh.n_points == 0):
                mode = "hidden"
            self._style(actor, group, mode)

    def _style(self, actor: vtkActor, group: str, mode: str) -> None:
        look = LOOKS[group]
        actor.SetVisibility(mode != "hidden")
        prop = actor.GetProperty()
        if group == "level" and mode == "shown":
            prop.SetColor(*rgb(LOOKS["vertebrae"].color))
        else:
            prop.SetColor(*rgb(look.color))
        prop.SetOpacity(look.translucent if mode == "translucent" else look.opacity)

    def visible_groups(self) -> set[str]:
        return {self.groups[n] for n, a in self.actors.items() if a.GetVisibility()}

    # -------------------------------------------------------------- camera
    def place_camera(self, camera: Camera, orbit_deg: float = 0.0) -> None:
        position, focal, up = camera.resolve(self.level_centre, self.spine_centre, orbit_deg)
        cam = self.renderer.GetActiveCamera()
        cam.SetViewAngle(30.0)
        cam.SetFocalPoint(*focal)
        cam.SetPosition(*position)
        cam.SetViewUp(*up)
        cam.OrthogonalizeViewUp()
        self.renderer.ResetCameraClippingRange()

    @staticmethod
    def is_section(camera: Camera) -> bool:
        return bool(camera.preset and CAMERA_PRESETS[camera.preset].section)

    def picture_png(self, caption: str, size: tuple[int, int] = (1600, 1200)) -> bytes:
        """The scene as the server sees it (same actors and step camera), captioned, as PNG.

        Rendered offscreen with VTK (EGL, no display needed); the caption band names the level
        so the picture makes sense once taken home.
        """
        import io

        from PIL import Image, ImageDraw, ImageFont
        from vtkmodules.util.numpy_support import vtk_to_numpy
        from vtkmodules.vtkRenderingCore import vtkWindowToImageFilter

        self.render_window.SetSize(*size)
        self.renderer.ResetCameraClippingRange()
        self.render_window.Render()
        grab = vtkWindowToImageFilter()
        grab.SetInput(self.render_window)
        grab.SetInputBufferTypeToRGB()
        grab.ReadFrontBufferOff()
        grab.Update()
        out = grab.GetOutput()
        w, h, _ = out.GetDimensions()
        pixels = vtk_to_numpy(out.GetPointData().GetScalars()).reshape(h, w, -1)[::-1]
        shot = Image.fromarray(np.ascontiguousarray(pixels[..., :3]))
        band = max(60, h // 12)
        sheet = Image.new("RGB", (w, h + band), BACKGROUND)
        sheet.paste(shot, (0, 0))
        draw = ImageDraw.Draw(sheet)
        try:
            font = ImageFont.truetype("DejaVuSans.ttf", band // 2)
        except OSError:
            font = ImageFont.load_default()
        draw.text((band // 2, h + band // 4), caption, fill="white", font=font)
        buffer = io.BytesIO()
        sheet.save(buffer, format="PNG")
        return buffer.getvalue()

