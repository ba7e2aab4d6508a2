"""Part labels in the 3D scene (Scene3D.set_part_labels): per-point colours the browser shows
as they are (no lookup table), the legend, the anchors, and frames of a fracture."""

from __future__ import annotations

import numpy as np
import pytest
from vtkmodules.util.numpy_support import vtk_to_numpy
from vtkmodules.vtkCommonCore import VTK_COLOR_MODE_DIRECT_SCALARS, VTK_UNSIGNED_CHAR

from vp3d.anatomy import build_spine
from vp3d.anatomy.parts import CORD_NAME, DISC_NAME, PART_NAMES
from vp3d.app.scene3d import LOOKS, PART_COLOR_ARRAY, PART_COLORS, Scene3D, rgb
from vp3d.pathology.fracture import Fracture, collapse_motion, deform_patient_points
from vp3d.meshing.cache import TRIANGLES, ScenePart
from vp3d.geometry.contour import decimate
from vp3d.procedure.case import SceneFrame

LEVEL = "L1"


@pytest.fixture(scope="module")
def scene_parts():
    """A small scene (T12-L2) built like the app's, and its spine."""
    spine = build_spine("T12", "L2")
    parts = [ScenePart(p.name, p.kind, p.level, decimate(p.patient_mesh(), TRIANGLES[p.kind]))
             for p in spine.parts if p.kind != "skin"]
    return spine, parts


@pytest.fixture
def scene(scene_parts):
    spine, parts = scene_parts
    s = Scene3D()
    s.load(parts, LEVEL, spine.vertebrae[LEVEL].transform[:3, 3])
    return s


def broken_frame(scene_parts, t: float = 1.0) -> SceneFrame:
    """What ProcedureModel.frame gives: the level's points moved (same order), those above moved."""
    spine, parts = scene_parts
    fracture = Fracture(LEVEL, 3, "wedge")
    deform, motion = collapse_motion(spine, fracture, t)
    base = next(p.mesh for p in parts if p.name == LEVEL)
    moved = base.copy()
    moved.points = deform_patient_points(base.points, spine.vertebrae[LEVEL].transform, deform)
    moved = moved.compute_normals(auto_orient_normals=True, split_vertices=False)
    above = {p.name: motion for p in parts if p.level == "T12"}
    return SceneFrame(t, {LEVEL: moved}, above, 0.0)


def colours_of(scene: Scene3D, name: str) -> np.ndarray | None:
    scalars = scene._data[name].GetPointData().GetScalars()
    return None if scalars is None else vtk_to_numpy(scalars)


def palette() -> set[tuple[int, ...]]:
    return {tuple(round(255 * c) for c in rgb(h)) for h in PART_COLORS}


def test_labels_on_colour_the_level_by_part(scene):
    scene.set_part_labels(True, LEVEL)
    data = scene._data[LEVEL]
    scalars = data.GetPointData().GetScalars()
    assert scalars is not None and scalars.GetName() == PART_COLOR_ARRAY
    assert scalars.GetDataType() == VTK_UNSIGNED_CHAR and scalars.GetNumberOfComponents() == 3
    assert scalars.GetNumberOfTuples() == data.GetNumberOfPoints()
    colours = {tuple(c) for c in colours_of(scene, LEVEL)}
    assert len(colours) >= 6 and colours <= palette()
    mapper = scene.actors[LEVEL].GetMapper()
    assert mapper.GetScalarVisibility()
    # The RGB values are the colours: never mapped through a lookup table.
    assert mapper.GetColorMode() == VTK_COLOR_MODE_DIRECT_SCALARS  # ("AsString" says "Default")
    assert mapper.GetScalarModeAsString() == "UsePointData"
    assert data.GetPointData().GetNormals() is not None  # shading still has its normals


def test_only_the_level_unless_neighbours_are_asked_for(scene):
    scene.set_part_labels(True)
    assert colours_of(scene, "T12") is None and colours_of(scene, "L2") is None
    assert not scene.actors["T12"].GetMapper().GetScalarVisibility()
    scene.set_part_labels(True, LEVEL, neighbours=1)
    for name in ("T12", "L1", "L2"):
        assert len({tuple(c) for c in colours_of(scene, name)}) >= 6
    # Discs and the thecal sac keep their looks (no scalars at all).
    for name in ("disc T12-L1", "cord"):
        assert colours_of(scene, name) is None
        assert not scene.actors[name].GetMapper().GetScalarVisibility()


def test_legend_names_the_parts_disc_and_thecal_sac(scene):
    assert scene.part_legend() == []
    scene.set_part_labels(True, LEVEL)
    legend = scene.part_legend()
    labels = [item["label"] for item in legend]
    assert labels[: len(PART_NAMES)] == list(PART_NAMES)
    assert DISC_NAME in labels and CORD_NAME in labels
    colours = {item["label"]: item["color"] for item in legend}
    assert colours[DISC_NAME] == LOOKS["discs"].color and colours[CORD_NAME] == LOOKS["cord"].color
    assert len({item["color"] for item in legend}) == len(legend)
    full = [item["label"] for item in scene.legend()]
    assert full[: len(legend)] == labels and "Bone" in full  # T12 and L2 are plain bone
    assert "The level being treated" not in full


def test_labels_off_restore_the_uniform_look(scene, scene_parts):
    before = scene.legend()
    scene.set_part_labels(True, LEVEL, neighbours=1)
    scene.set_part_labels(False)
    for name in ("T12", "L1", "L2"):
        assert colours_of(scene, name) is None
        assert not scene.actors[name].GetMapper().GetScalarVisibility()
    assert scene.part_legend() == [] and scene.legend() == before
    assert scene.label_anchors() == []
    scene.apply(broken_frame(scene_parts, 0.0), {"level": "shown"})
    assert scene.actors[LEVEL].GetProperty().GetColor() == pytest.approx(rgb(LOOKS["vertebrae"].color))
    assert colours_of(scene, LEVEL) is None


def test_labels_survive_the_frames_of_a_fracture(scene, scene_parts):
    scene.set_part_labels(True, LEVEL)
    first = colours_of(scene, LEVEL).copy()
    intact = vtk_to_numpy(scene._data[LEVEL].GetPoints().GetData()).copy()
    for t in (0.5, 1.0):
        scene.apply(broken_frame(scene_parts, t), {"level": "translucent"})
        points = vtk_to_numpy(scene._data[LEVEL].GetPoints().GetData())
        assert not np.allclose(points, intact)  # the level collapsed ...
        assert np.array_equal(colours_of(scene, LEVEL), first)  # ... and kept its parts
        assert scene.actors[LEVEL].GetMapper().GetScalarVisibility()
    assert scene.actors[LEVEL].GetProperty().GetOpacity() == pytest.approx(LOOKS["level"].translucent)
    scene.set_part_labels(False)
    scene.apply(broken_frame(scene_parts, 1.0), {})
    assert colours_of(scene, LEVEL) is None


def test_no_other_actor_sends_scalars(scene, scene_parts):
    """The browser colours any mesh with active scalars through a lookup table."""
    scene.set_part_labels(True, LEVEL)
    scene.apply(broken_frame(scene_parts), {})
    for name, actor in scene.actors.items():
        if name != LEVEL:
            assert colours_of(scene, name) is None, name
            assert not actor.GetMapper().GetScalarVisibility(), name


def test_anchors_name_every_part_and_follow_the_frame(scene, scene_parts):
    assert scene.label_anchors() == []
    scene.set_part_labels(True, LEVEL)
    anchors = scene.label_anchors()
    names = {a["name"] for a in anchors}
    assert names == set(PART_NAMES) | {DISC_NAME, CORD_NAME}
    for a in anchors:
        assert len(a["position"]) == 3 and len(a["normal"]) == 3
        assert a["side"] in ("right", "left", "midline")
        assert np.linalg.norm(np.subtract(a["position"], scene.level_centre)) < 60.0
        assert a["color"].startswith("#")
    body = next(a for a in anchors if a["name"] == "Vertebral body" and a["side"] == "right")
    assert np.dot(body["normal"], [1.0, 0.0, 0.0]) > 0.3  # on the right wall, facing out
    scene.apply(broken_frame(scene_parts, 1.0), {})
    moved = next(a for a in scene.label_anchors() if a["name"] == "Vertebral body"
                 and a["side"] == "right")
    still = next(a for a in anchors if a["name"] == moved["name"] and a["side"] == "right")
    assert moved["position"] != still["position"]  # read from the collapsed level
    # Hidden parts have no anchors.
    scene.apply(broken_frame(scene_parts, 1.0), {"discs": "hidden", "cord": "hidden"})
    assert {a["name"] for a in scene.label_anchors()} == set(PART_NAMES)


def test_labels_stay_on_for_a_new_scene(scene, scene_parts):
    spine, parts = scene_parts
    scene.set_part_labels(True, LEVEL)
    scene.load(parts, "L2", spine.vertebrae["L2"].transform[:3, 3])
    assert scene.labels_on and scene.labels_level == "L2"
    assert colours_of(scene, "L2") is not None and colours_of(scene, "L1") is None


def test_a_level_outside_the_scene_is_a_value_error(scene):
    with pytest.raises(ValueError, match="T12, L1, L2"):
        scene.set_part_labels(True, "L4")
    with pytest.raises(ValueError, match="neighbours"):
        scene.set_part_labels(True, LEVEL, neighbours=-1)
    with pytest.raises(ValueError, match="vertebra"):
        scene.part_labels("cord")
    assert not scene.labels_on


def test_what_the_browser_receives(scene):
    """trame-vtk's serialisation for vtk.js: direct RGB bytes for the level, nothing to map."""
    from trame_vtk.modules.vtk.serializers import (
        SynchronizationContext,
        initialize_serializers,
        reference_id,
        serialize,
    )

    initialize_serializers()
    scene.set_part_labels(True, LEVEL)
    window = scene.render_window
    state = serialize(None, window, reference_id(window), SynchronizationContext(), 1)
    mappers, datasets = [], []

    def walk(node):
        if isinstance(node, dict):
            if "Mapper" in str(node.get("type")):
                mappers.append(node["properties"])
            if node.get("type") == "vtkPolyData":
                datasets.append(node["properties"].get("fields", []))
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(state)
    coloured = [m for m in mappers if m["scalarVisibility"]]
    assert len(coloured) == 1 and coloured[0]["colorMode"] == 2  # VTK_COLOR_MODE_DIRECT_SCALARS
    scalars = [f for fields in datasets for f in fields if f.get("registration") == "setScalars"]
    assert [(f["name"], f["dataType"], f["numberOfComponents"]) for f in scalars] == [
        (PART_COLOR_ARRAY, "Uint8Array", 3)]
