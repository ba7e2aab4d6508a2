"""The 3D scene of one session: VTK actors for the engine's meshes, their looks, the camera.

The render window is never drawn on the server: trame-vtk serialises it for vtk.js in the
browser (client-side rendering). So everything shown in 3D is geometry and colour; text goes
in the page (Vuetify), as vtk.js drops VTK text actors.

Each engine part is one actor; the needles, the cement and the balloons are their own actors,
made when a frame first has them. A frame replaces the fractured level's mesh (the collapse
animates by new points, same triangles) and moves the parts above it by a user matrix.
"""

from __future__ import annotations


import threading
from dataclasses import dataclass
from typing import Any, Callable, Mapping

import numpy as np
import pyvista as pv
import vtkmodules.vtkRenderingOpenGL2  # noqa: F401  (OpenGL implementations of the classes below)
from vtkmodules.util import numpy_support
from vtkmodules.vtkCommonCore import vtkUnsignedCharArray
from vtkmodules.vtkCommonDataModel import vtkPolyData
from vtkmodules.vtkCommonMath import vtkMatrix4x4
from vtkmodules.vtkRenderingCore import vtkActor, vtkCamera, vtkPolyDataMapper, vtkRenderer, vtkRenderWindow

from vp3d.anatomy.parts import CORD_NAME, DISC_NAME, PART_NAMES
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
    "ribs": Look("#d8ccb0", 1.0, 0.18, "Ribs and pelvis"),
    "lungs": Look("#e8a3b4", 1.0, 0.12, "Lungs"),
    "vessels": Look("#c0504d", 1.0, 0.2, "Heart, aorta and vena cava"),
    "organs": Look("#a0684a", 1.0, 0.15, "Liver, stomach and kidneys"),
}
KIND_GROUP = {"vertebra": "vertebrae", "disc": "discs", "nucleus": "nuclei", "cord": "cord",
              "skin": "skin", "rib": "ribs", "pelvis": "ribs", "lung": "lungs", "vessel": "vessels", "organ": "organs",
              "ligament": "discs"}
#: Name tags of the body around the spine, and the direction from the treated level to pin them.
BODY_TAGS = {"rib": ("Ribs", (1.0, -0.3, 0.2)), "pelvis": ("Pelvis", (1.0, 0.2, -1.0)),
             "lung": ("Lung", (1.0, 0.4, 0.4)), "vessel": ("Heart and aorta", (-0.4, 1.0, 0.3)),
             "organ": ("Liver and kidney", (0.7, 0.7, -0.6))}
TOOL_PARTS = {"needle 1": "needle", "needle 2": "needle", "cement": "cement",
              "balloon 1": "balloon", "balloon 2": "balloon"}
BACKGROUND = "#1d232c"
#: Colours of the vertebra's parts when labels are on, in the order of ``PART_NAMES``: the
#: Okabe-Ito palette (Okabe & Ito 2008, "Color Universal Design"), told apart with every
#: common colour-vision deficiency; its sky blue is left out (too near the discs' blue).
PART_COLORS: tuple[str, ...] = ("#e69f00", "#0072b2", "#009e73", "#cc79a7", "#d55e00", "#f0e442")
#: Name of the per-point colour array sent with a labelled vertebra.
PART_COLOR_ARRAY = "PartColors"


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


#: Renderers and windows of closed sessions, ready for the next (bounded by the most sessions
#: ever open at once).
_POOL: list[tuple[vtkRenderer, vtkRenderWindow]] = []
_POOL_LOCK = threading.Lock()


class Scene3D:
    """Actors of one session's scene and the camera that frames it."""

    def __init__(self) -> None:
        with _POOL_LOCK:
            reused = _POOL.pop() if _POOL else None
        if reused is None:
            self.renderer = vtkRenderer()
            self.render_window = vtkRenderWindow()
            self.render_window.SetOffScreenRendering(1)  # never shown on the server
            self.render_window.AddRenderer(self.renderer)
        else:  # a closed session's, emptied by close()
            self.renderer, self.render_window = reused
            self.renderer.SetActiveCamera(vtkCamera())
        self.renderer.SetBackground(*rgb(BACKGROUND))
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
        self._points: dict[str, np.ndarray] = {}  # points last sent per actor (skip repeats)
        self._matrices: dict[str, vtkMatrix4x4] = {}
        self._retired: list = []
        # Part labels: the scene's intact vertebra points (labels are computed from them once
        # per scene and reused for every frame, the fracture moving points, not reordering
        # them), each labelled actor's colour array (kept for life, like the data), anchors.
        self._levels: dict[str, str] = {}  # vertebra actor name -> level
        self._intact_points: dict[str, np.ndarray] = {}
        self._part_labels: dict[str, np.ndarray] = {}
        self._part_colors: dict[str, vtkUnsignedCharArray] = {}
        self._anchors: dict[str, list] = {}
        self._soft_points: dict[str, np.ndarray] = {}  # disc / cord actor -> intact points
        self.labels_on = False
        self.labels_level: str | None = None
        self.labels_neighbours = 0
        self._painted: set[str] = set()  # levels coloured by part

    def close(self) -> None:
        """Drop every actor and data object (session end) and hand the renderer and its
        window to the next session.

        VTK objects the page has seen carry trame-vtk's Python delete callbacks; freed here,
        by reference count, those run safely. The renderer and window are kept for reuse
        rather than left to Python's cycle collector, which must not run such callbacks.
        """
        for store in (self.actors, self.groups, self._data, self._points, self._matrices, self._levels,
                      self._intact_points, self._part_labels, self._part_colors, self._anchors,
                      self._soft_points):
            store.clear()
        self._retired.clear()
        self.renderer.RemoveAllViewProps()
        self.renderer.RemoveAllLights()
        with _POOL_LOCK:
            _POOL.append((self.renderer, self.render_window))

    # -------------------------------------------------------------- building
    def load(self, parts, level: str, level_centre_mm) -> None:
        """Replace every actor with the engine's scene ``parts`` around ``level``."""
        self._retired.append((dict(self.actors), dict(self._data), dict(self._matrices),
                              dict(self._part_colors)))
        self.renderer.RemoveAllViewProps()
        self.actors.clear()
        self._data.clear()
        self._points.clear()
        self._matrices.clear()
        self.groups.clear()
        self._moved.clear()
        self._levels.clear()
        self._intact_points.clear()
        self._part_labels.clear()
        self._part_colors.clear()
        self._anchors.clear()
        self._soft_points.clear()
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
                self._levels[part.name] = part.level
                self._intact_points[part.name] = np.array(part.mesh.points, dtype=float)
            elif part.kind in ("disc", "cord") or part.kind in BODY_TAGS:
                self._soft_points[part.name] = np.array(part.mesh.points, dtype=float)
        self.level_centre = np.asarray(level_centre_mm, dtype=float)
        self.spine_centre = (low + high) / 2 if np.isfinite(low).all() else self.level_centre
        if self.labels_on:  # labels stay on for the new scene, on its treated level
            self.set_part_labels(True, level, neighbours=self.labels_neighbours)

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
        """Show ``frame`` (a :class:`vp3d.procedure.case.SceneFrame`) with the step's ``visible`` modes."""
        for name, mesh in frame.meshes.items():
            if mesh is None or mesh.n_points == 0:
                continue  # nothing to draw yet (a first drop of cement): the actor stays hidden
            if name in TOOL_PARTS and name not in self.actors:
                self._add(name, TOOL_PARTS[name], None)
            if name in self.actors:
                points = np.asarray(mesh.points)
                last = self._points.get(name)
                if last is not None and last.shape == points.shape and np.array_equal(last, points):
                    continue  # same surface as shown: nothing to send to the browser again
                self._points[name] = points.copy()
                self._data[name].ShallowCopy(light_polydata(mesh))
                self._paint_parts(name)
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

    # -------------------------------------------------------------- part labels
    def set_part_labels(self, on: bool, level: str | None = None, *, neighbours: int = 0) -> None:
        """Colour the vertebra ``level`` (default: the treated level) and ``neighbours`` levels on
        each side of it by anatomical part (:data:`PART_COLORS`), or, ``on`` false, give every
        vertebra its usual look back. Discs and the thecal sac keep their looks.

        The parts are found once per scene and reused for every frame (a fracture moves the
        points of a mesh but keeps their order). Raises ``ValueError`` when ``level`` is not a
        vertebra of the scene.
        """
        if not on:
            self.labels_on = False
            for name in self._levels:
                self._paint_parts(name)
            return
        order = list(self._levels.values())  # cranial to caudal, as loaded
        level = self.level if level is None else str(level).strip().upper()
        if level not in order:
            raise ValueError(f"level must be one of the scene's vertebrae ({', '.join(order)}), "
                             f"got {level!r}")
        if int(neighbours) < 0:
            raise ValueError(f"neighbours must be 0 or more, got {neighbours!r}")
        i = order.index(level)
        self._painted = set(order[max(i - int(neighbours), 0): i + int(neighbours) + 1])
        self.labels_on, self.labels_level, self.labels_neighbours = True, level, int(neighbours)
        for name in self._levels:
            self._paint_parts(name)

    def _paint_parts(self, name: str) -> None:
        """Give actor ``name`` its part colours (labels on, a painted level) or its uniform look."""
        if name not in self._levels:
            return
        data = self._data[name]
        mapper = self.actors[name].GetMapper()
        n = data.GetNumberOfPoints()
        painted = (self.labels_on and self._levels[name] in self._painted
                   and n == len(self._intact_points[name]))
        # Off: no active scalars at all, or the browser may colour through a lookup table.
        colours = self._colors_of(name) if painted else None
        if data.GetPointData().GetScalars() is not colours:  # untouched meshes are not re-sent
            data.GetPointData().SetScalars(colours)
            data.Modified()
        mapper.SetScalarVisibility(painted)
        if painted:
            mapper.SetScalarModeToUsePointData()
            # The colours are the RGB values themselves: never mapped through a lookup table.
            mapper.SetColorModeToDirectScalars()
        else:
            mapper.SetScalarModeToDefault()
            mapper.SetColorModeToDefault()

    def _labels_of(self, name: str) -> np.ndarray:
        if name not in self._part_labels:
            from vp3d.anatomy.parts import label_vertebra_points, placed_vertebra

            self._part_labels[name] = label_vertebra_points(placed_vertebra(self._levels[name]),
                                                            self._intact_points[name])
        return self._part_labels[name]

    def _colors_of(self, name: str) -> vtkUnsignedCharArray:
        if name not in self._part_colors:
            table = np.array([[round(255 * c) for c in rgb(h)] for h in PART_COLORS], dtype=np.uint8)
            colours = numpy_support.numpy_to_vtk(table[self._labels_of(name)], deep=True,
                                                 array_type=numpy_support.get_vtk_array_type(np.uint8))
            colours.SetName(PART_COLOR_ARRAY)
            self._part_colors[name] = colours
        return self._part_colors[name]

    def part_labels(self, name: str) -> np.ndarray:
        """Part of each point of vertebra actor ``name`` (indices into ``PART_NAMES``)."""
        if name not in self._levels:
            raise ValueError(f"{name!r} is not a vertebra of the scene ({', '.join(self._levels)})")
        return self._labels_of(name)

    def _visible(self, name: str) -> bool:
        return name in self.actors and bool(self.actors[name].GetVisibility())

    def part_legend(self) -> list[dict[str, str]]:
        """Legend of the part colours while labels are on (``[]`` when off): the vertebra's
        parts, then the disc and the thecal sac in their own looks when they are shown."""
        if not self.labels_on:
            return []
        items = [{"label": n, "color": c} for n, c in zip(PART_NAMES, PART_COLORS)]
        if any(self._visible(n) for n, g in self.groups.items() if g == "discs"):
            items.append({"label": DISC_NAME, "color": LOOKS["discs"].color})
        if any(self._visible(n) for n, g in self.groups.items() if g == "cord"):
            items.append({"label": CORD_NAME, "color": LOOKS["cord"].color})
        return items

    def legend(self) -> list[dict[str, str]]:
        """The page's legend for what is shown: the looks of the visible groups, or, labels on,
        the parts first and then the other visible groups (bone only for uncoloured levels)."""
        groups = self.visible_groups()
        if not self.labels_on:
            return [{"label": LOOKS[g].label, "color": LOOKS[g].color} for g in LOOKS if g in groups]
        items = self.part_legend()
        plain_bone = any(self._visible(n) and lv not in self._painted for n, lv in self._levels.items())
        for g in LOOKS:
            if g in ("level", "discs", "cord") or g not in groups:
                continue
            if g == "vertebrae" and not plain_bone:
                continue
            items.append({"label": LOOKS[g].label, "color": LOOKS[g].color})
        return items

    def label_anchors(self) -> list[dict]:
        """Where to pin the part names in 3D, as shown now (labels on; ``[]`` when off).

        For the labelled level (one per part and side), the disc below it (above it at the
        bottom of the scene) and the thecal sac beside and behind it (``side`` "midline"), just
        below the level where it shows between the bones: ``{"name", "color", "side",
        "position": [x, y, z], "normal": [x, y, z]}`` in world coordinates (mm), from the
        current frame's points (a fracture, the motion of the levels above). Hidden parts have
        none. A page pins each name where the normal faces the camera.
        """
        if not self.labels_on or self.labels_level is None:
            return []
        out = []
        for name, name_of, color, side, index in self._anchor_indices():
            if not self._visible(name):
                continue
            data = self._data[name]
            if index >= data.GetNumberOfPoints():
                continue
            p = np.array(data.GetPoint(index))
            normals = data.GetPointData().GetNormals()
            nrm = np.array(normals.GetTuple3(index)) if normals is not None else np.zeros(3)
            matrix = self.actors[name].GetUserMatrix()
            if matrix is not None:
                m = np.array([[matrix.GetElement(i, j) for j in range(4)] for i in range(4)])
                p, nrm = m[:3, :3] @ p + m[:3, 3], m[:3, :3] @ nrm
            out.append({"name": name_of, "color": color, "side": side,
                        "position": [round(float(v), 2) for v in p],
                        "normal": [round(float(v), 3) for v in nrm]})
        return out

    def _anchor_indices(self) -> list[tuple[str, str, str, str, int]]:
        """(actor, part name, colour, side, vertex index) of each anchor, found once a scene."""
        level = self.labels_level
        if level in self._anchors:
            return self._anchors[level]
        from vp3d.anatomy.parts import part_anchors, placed_vertebra, surface_anchor

        actor = next(n for n, lv in self._levels.items() if lv == level)
        vertebra = placed_vertebra(level)
        points = self._intact_points[actor]
        found = [(actor, a.name, PART_COLORS[a.part], a.side, a.index)
                 for a in part_anchors(vertebra, points, self._labels_of(actor))]
        discs = [n for n, g in self.groups.items() if g == "discs" and n in self._soft_points]
        disc = next((n for n in discs if n.startswith(f"disc {level}-")),
                    next((n for n in discs if n.endswith(f"-{level}")), None))
        t = vertebra.transform
        m = vertebra.morphometry
        # Below the body, at the disc: the thecal sac shows through the intervertebral
        # foramina (side views) and between the laminae (from behind).
        below = np.array([0.0, 0.0, -(m.body_posterior_height_mm + m.disc_height_mm) / 2])
        for k, sign in enumerate((1.0, -1.0)):
            side = "right" if k == 0 else "left"
            out_dir = t[:3, :3] @ np.array([sign, 0.6, 0.0])
            if disc is not None:
                pts = self._soft_points[disc]
                found.append((disc, DISC_NAME, LOOKS["discs"].color, side,
                              surface_anchor(pts, pts.mean(axis=0), out_dir)))
            if "cord" in self._soft_points:
                centre = t[:3, :3] @ (vertebra.landmarks.canal_center_mm + below) + t[:3, 3]
                found.append(("cord", CORD_NAME, LOOKS["cord"].color, side,
                              surface_anchor(self._soft_points["cord"], centre,
                                             t[:3, :3] @ np.array([sign, 0.0, 0.0]))))
        if "cord" in self._soft_points:  # and from behind, between the laminae
            centre = t[:3, :3] @ (vertebra.landmarks.canal_center_mm + below) + t[:3, 3]
            found.append(("cord", CORD_NAME, LOOKS["cord"].color, "midline",
                          surface_anchor(self._soft_points["cord"], centre,
                                         t[:3, :3] @ np.array([0.0, -1.0, 0.0]))))
        # The body around the spine, named beside the treated level (shown only while visible).
        centre = t[:3, 3]
        for name, group in self.groups.items():
            if name in BODY_TAGS and name in self._soft_points:  # a body part is named by its kind
                tag, direction = BODY_TAGS[name]
                found.append((name, tag, LOOKS[group].color, "right",
                              surface_anchor(self._soft_points[name], centre, np.array(direction))))
        self._anchors[level] = found
        return found

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
        unit = max(60, h // 12)
        try:
            font = ImageFont.truetype("DejaVuSans.ttf", unit // 2)
        except OSError:
            font = ImageFont.load_default()
        measure = ImageDraw.Draw(Image.new("RGB", (1, 1)))
        lines = wrap_caption(caption, lambda text: measure.textlength(text, font=font), w - unit)
        line_h = round(unit * 0.7)
        band = unit // 2 + line_h * len(lines)
        sheet = Image.new("RGB", (w, h + band), BACKGROUND)
        sheet.paste(shot, (0, 0))
        draw = ImageDraw.Draw(sheet)
        for i, line in enumerate(lines):
            draw.text((unit // 2, h + unit // 4 + i * line_h), line, fill="white", font=font)
        buffer = io.BytesIO()
        sheet.save(buffer, format="PNG")
        return buffer.getvalue()


def wrap_caption(text: str, width_of: Callable[[str], float], max_width: float) -> list[str]:
    """``text`` in lines no wider than ``max_width`` (by ``width_of``), broken between words;
    a single word wider than the line stays whole on its own line."""
    lines: list[str] = []
    for word in text.split():
        if lines and width_of(f"{lines[-1]} {word}") <= max_width:
            lines[-1] = f"{lines[-1]} {word}"
        else:
            lines.append(word)
    return lines or [""]
