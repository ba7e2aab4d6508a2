"""The sheet's two pictures, made offscreen and cached on disk per choice.

- The spine from the side, T5 to L5 (every level the procedure is offered on), with the
  patient's level shaded dark and labelled: bones light grey on white, the level a dark
  brown that stays dark in black and white print.
- A simple AP fluoroscopy image of the level at the end of the procedure: the fractured body
  with both needles at target and 3 mL of cement (the case model, :mod:`vp3d.procedure.case`).

The X-ray needs the case model (about 15 s on 2 cores), so both pictures are kept under
``.cache/handout/`` (``$VP3D_CACHE_DIR/handout`` when set), named by the choice and a digest of
the engine code and data, so a change to either makes fresh pictures.
"""

from __future__ import annotations

import hashlib
import os
import threading
from dataclasses import dataclass
from pathlib import Path

from vp3d.paths import PACKAGE_DIR, generated_dir

#: Environment variable moving every generated cache (shared with the narration audio).
CACHE_ENV = "VP3D_CACHE_DIR"
#: The spine drawn: every level the procedure is offered on.
SPINE_TOP, SPINE_BOTTOM = "T5", "L5"
SPINE_SIZE_PX = (560, 1240)
BONE_COLOR = "#e4e4e4"
DISC_COLOR = "#c3ccd4"
#: Dark brown: luminance about 0.4 of white, against 0.9 for the other bones (black-and-white print).
LEVEL_COLOR = "#8a4a12"
#: The X-ray's moment: needles at target and a typical fill (vp3d.procedure.sheet.TYPICAL_ML).
XRAY_STATE = {"fracture.t": 1.0, "needle.depth": 1.0, "cement.ml": 3.0, "kyphoplasty.restore": 1.0}
XRAY_ROWS = 448

_lock = threading.Lock()  # one picture at a time: VTK and the case model are memory-hungry


@dataclass(frozen=True)
class SheetPictures:
    """Paths of one choice's two PNG pictures."""

    spine_png: Path
    xray_png: Path


def cache_dir() -> Path:
    """``$VP3D_CACHE_DIR/handout``, else ``.cache/handout`` in a checkout or the user's cache."""
    root = os.environ.get(CACHE_ENV)
    return Path(root) / "handout" if root else generated_dir(".cache/handout", "handout")


#: Code the pictures do not depend on: the page, the words, the PDF, the story, quiz and practice.
_NOT_PICTURED = ("app/", "handout/", "storyboard/", "quiz/", "practice/")


def _engine_digest() -> str:
    """A digest of the engine's code and data tables: pictures made by other code are not reused."""
    h = hashlib.sha256()
    for path in sorted(PACKAGE_DIR.rglob("*")):
        rel = path.relative_to(PACKAGE_DIR).as_posix()
        if path.suffix not in (".py", ".csv") or rel == "cli.py" or rel.startswith(_NOT_PICTURED) and \
                rel != "handout/pictures.py":
            continue
        h.update(rel.encode())
        h.update(path.read_bytes())
    return h.hexdigest()[:12]


def sheet_pictures(level: str, grade: int, kind: str, procedure: str,
                   folder: Path | None = None) -> SheetPictures:
    """The two pictures for a checked choice, made now or read from the cache."""
    base = Path(folder) if folder is not None else cache_dir()
    base.mkdir(parents=True, exist_ok=True)
    digest = _engine_digest()
    spine = base / f"spine-{level}-{digest}.png"
    xray = base / f"xray-{level}-g{grade}-{kind}-{procedure}-{digest}.png"
    with _lock:
        if not spine.is_file():
            _atomic(spine, lambda tmp: spine_picture(level, tmp))
        if not xray.is_file():
            _atomic(xray, lambda tmp: xray_picture(level, grade, kind, procedure, tmp))
    return SheetPictures(spine, xray)


def _atomic(path: Path, make) -> None:
    """``make(tmp)`` then a rename, so a half-written picture is never read."""
    tmp = path.with_name(f".{path.stem}-{os.getpid()}-{threading.get_ident()}.png")
    try:
        make(tmp)
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def spine_picture(level: str, out: Path, size: tuple[int, int] = SPINE_SIZE_PX) -> Path:
    """The T5-L5 spine from the patient's left, ``level`` shaded dark and labelled, on white."""
    os.environ.setdefault("VTK_DEFAULT_OPENGL_WINDOW", "vtkEGLRenderWindow")
    import numpy as np
    import pyvista as pv
    from PIL import Image, ImageDraw, ImageFont
    from vtkmodules.vtkRenderingCore import vtkCoordinate

    from vp3d.meshing.cache import load_scene_meshes
    from vp3d.meshing.views import RENDER_VIEWS

    parts = [p for p in load_scene_meshes(SPINE_TOP, SPINE_BOTTOM) if p.kind in ("vertebra", "disc")]
    plotter = pv.Plotter(off_screen=True, window_size=size)
    plotter.set_background("white")
    target = None
    for p in parts:
        color = LEVEL_COLOR if p.name == level else BONE_COLOR if p.kind == "vertebra" else DISC_COLOR
        plotter.add_mesh(p.mesh, color=color, smooth_shading=True, specular=0.15, specular_power=15)
        if p.name == level:
            target = p.mesh
    if target is None:
        plotter.close()
        raise ValueError(f"level {level} is not in the drawn spine {SPINE_TOP}-{SPINE_BOTTOM}")
    direction, up = (np.array(v) for v in RENDER_VIEWS["lateral"])
    bounds = np.array([p.mesh.bounds for p in parts])
    centre = np.array([(bounds[:, 0].min() + bounds[:, 1].max()) / 2,
                       (bounds[:, 2].min() + bounds[:, 3].max()) / 2,
                       (bounds[:, 4].min() + bounds[:, 5].max()) / 2])
    plotter.camera_position = [centre + 1500 * direction, centre, up]
    plotter.camera.parallel_projection = True  # a drawing: no perspective
    plotter.reset_camera()
    # The spine's height fills the picture (half the height shown, with a margin).
    plotter.camera.parallel_scale = 0.53 * (bounds[:, 5].max() - bounds[:, 4].min())
    # Where the label points: the front (anterior, +y) of the level's body, at its mid-height.
    pts = target.points
    anchor = [float(pts[:, 0].mean()), float(pts[:, 1].max()), float((pts[:, 2].min() + pts[:, 2].max()) / 2)]
    plotter.enable_anti_aliasing("ssaa")
    plotter.render()
    coord = vtkCoordinate()
    coord.SetCoordinateSystemToWorld()
    coord.SetValue(*anchor)
    x_px, y_px = coord.GetComputedDisplayValue(plotter.renderer)
    image = Image.fromarray(plotter.screenshot(return_img=True)).convert("RGB")
    plotter.close()
    _label(image, level, (x_px, size[1] - y_px), ImageDraw, ImageFont)
    image.save(out)
    return Path(out)


def _label(image, text: str, point: tuple[float, float], ImageDraw, ImageFont) -> None:
    """``text`` in a black box at the left edge, with a line to ``point`` (pixels)."""
    draw = ImageDraw.Draw(image)
    font = ImageFont.truetype(str(font_path(bold=True)), 44)
    x, y = point
    box_w, box_h = 88, 60
    top = max(4, min(image.height - box_h - 4, y - box_h / 2))
    draw.line([(box_w + 8, top + box_h / 2), (x - 6, y)], fill="black", width=5)
    draw.rectangle([4, top, 4 + box_w, top + box_h], fill="black")
    draw.text((4 + box_w / 2, top + box_h / 2), text, fill="white", font=font, anchor="mm")


def xray_picture(level: str, grade: int, kind: str, procedure: str, out: Path) -> Path:
    """AP fluoroscopy of the treated level: both needles at target and 3 mL of cement."""
    from PIL import Image

    from vp3d.procedure.case import Choices, ProcedureModel

    model = ProcedureModel(Choices(level, grade, kind, procedure), rows=XRAY_ROWS)
    Image.fromarray(model.fluoroscopy(dict(XRAY_STATE), "ap")).save(out)
    return Path(out)


#: DejaVu Sans (Debian's fonts-dejavu-core): Latin with every Spanish letter and sign.
FONT_DIRS = (Path("/usr/share/fonts/truetype/dejavu"), Path("/usr/share/fonts/dejavu"),
             Path("/usr/local/share/fonts"))


def font_path(bold: bool = False) -> Path:
    """The DejaVu Sans file the sheet embeds; ``FileNotFoundError`` naming the package if missing."""
    name = "DejaVuSans-Bold.ttf" if bold else "DejaVuSans.ttf"
    for folder in FONT_DIRS:
        if (folder / name).is_file():
            return folder / name
    raise FileNotFoundError(f"font {name} not found in {', '.join(map(str, FONT_DIRS))}; "
                            "install the Debian package fonts-dejavu-core")
