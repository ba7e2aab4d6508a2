"""Light browser meshes for a scene, built from the anatomy and cached in ``meshes/``.

Meshes are generated, not committed: ``vp3d build-meshes`` (or the first start of the app)
writes them to the cache folder, keyed by a hash of everything they depend on (the
morphometry table, the anatomy code and the requested range), so an edit to either
rebuilds them and a stale file is never served.
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass
from pathlib import Path

import pyvista as pv

from vp3d.geometry.contour import decimate
from vp3d.paths import PACKAGE_DIR, generated_dir

#: Default cache folder: ``meshes/`` beside the package in a checkout, overridable with
#: the ``VP3D_MESH_DIR`` environment variable.
#: Generated meshes: ``meshes/`` of a checkout, else the user's cache (vp3d.paths);
#: ``VP3D_MESH_DIR`` overrides both.
DEFAULT_MESH_DIR = Path(os.environ.get("VP3D_MESH_DIR") or generated_dir("meshes", "meshes"))

#: Triangle budget per part kind for the browser (whole default scene <= 300 k triangles).
TRIANGLES = {"vertebra": 13_000, "disc": 3_000, "nucleus": 800, "cord": 4_000, "skin": 3_000,
             # The body around the spine is context: coarse surfaces keep the page light.
             "rib": 7_000, "pelvis": 3_000, "lung": 2_500, "vessel": 2_000, "organ": 11_000,
             "ligament": 900}


@dataclass
class ScenePart:
    """A mesh ready for display, in the patient frame (RAS, mm)."""

    name: str
    kind: str
    level: str | None
    mesh: pv.PolyData


def _inputs_digest(top: str, bottom: str) -> str:
    h = hashlib.sha256()
    for path in sorted((PACKAGE_DIR / "data").glob("*.csv")):
        h.update(path.read_bytes())
    for path in sorted((PACKAGE_DIR / "anatomy").glob("*.py")) + [
        *sorted((PACKAGE_DIR / "geometry").glob("*.py")), Path(__file__)
    ]:
        h.update(path.read_bytes())
    h.update(json.dumps([top, bottom, TRIANGLES]).encode())
    return h.hexdigest()[:16]


def scene_dir(top: str = "T10", bottom: str = "L5", directory: Path | None = None) -> Path:
    """Cache folder for one scene's meshes."""
    base = Path(directory) if directory is not None else DEFAULT_MESH_DIR
    return base / f"{top}-{bottom}-{_inputs_digest(top, bottom)}"


def build_scene_meshes(top: str = "T10", bottom: str = "L5",
                       directory: Path | None = None) -> list[ScenePart]:
    """Generate, decimate and write the scene's meshes (``.vtp``) with an index file."""
    from vp3d.anatomy import build_spine

    spine = build_spine(top, bottom)
    out_dir = scene_dir(spine.levels[0], spine.levels[-1], directory)
    out_dir.mkdir(parents=True, exist_ok=True)
    parts, index = [], []
    for part in spine.parts:
        mesh = decimate(part.patient_mesh(), TRIANGLES[part.kind])
        fname = part.name.replace(" ", "_") + ".vtp"
        # Normals are recomputed on load: the files stay small.
        _write_vtp(pv.PolyData(mesh.points.astype("float32"), mesh.faces), out_dir / fname)
        index.append({"name": part.name, "kind": part.kind, "level": part.level, "file": fname})
        parts.append(ScenePart(part.name, part.kind, part.level, mesh))
    from vp3d.anatomy.trunk import trunk_meshes

    for kind, surface in trunk_meshes(spine.skin.shape).items():
        mesh = decimate(surface, TRIANGLES[kind])
        fname = f"{kind}.vtp"
        _write_vtp(pv.PolyData(mesh.points.astype("float32"), mesh.faces), out_dir / fname)
        index.append({"name": kind, "kind": kind, "level": None, "file": fname})
        parts.append(ScenePart(kind, kind, None, mesh))
    (out_dir / "index.json").write_text(json.dumps(index, indent=1))
    _prune_stale(out_dir)
    return parts


def _prune_stale(current: Path) -> None:
    """Delete older builds of the same scene (other input hashes): they can never be served."""
    import shutil

    top_bottom = current.name.rsplit("-", 1)[0]
    for other in current.parent.glob(f"{top_bottom}-*"):
        if other != current and other.is_dir() and (other / "index.json").exists():
            shutil.rmtree(other, ignore_errors=True)


def _write_vtp(mesh: pv.PolyData, path: Path) -> None:
    """Binary, zlib-compressed VTK XML poly data."""
    import vtk

    w = vtk.vtkXMLPolyDataWriter()
    w.SetFileName(str(path))
    w.SetInputData(mesh)
    w.SetDataModeToBinary()
    w.SetCompressorTypeToZLib()
    w.SetHeaderTypeToUInt32()
    w.SetIdTypeToInt32()
    w.Write()


def load_scene_meshes(top: str = "T10", bottom: str = "L5",
                      directory: Path | None = None) -> list[ScenePart]:
    """The scene's meshes from the cache, building them first when missing or stale."""
    from vp3d.checks import level_range

    levels = level_range(top, bottom)
    top, bottom = levels[0], levels[-1]
    folder = scene_dir(top, bottom, directory)
    index_file = folder / "index.json"
    if not index_file.exists():
        return build_scene_meshes(top, bottom, directory)
    parts = []
    for rec in json.loads(index_file.read_text()):
        mesh = pv.read(folder / rec["file"]).compute_normals(
            auto_orient_normals=True, split_vertices=False)
        parts.append(ScenePart(rec["name"], rec["kind"], rec["level"], mesh))
    return parts
