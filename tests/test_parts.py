"""Anatomical parts of a vertebra's surface (vp3d.anatomy.parts), checked against the
morphometry the vertebra is built from."""

from __future__ import annotations

import numpy as np
import pytest

from vp3d.anatomy import build_spine, build_vertebra
from vp3d.anatomy.parts import (
    PART_NAMES,
    label_vertebra_points,
    part_anchors,
    placed_vertebra,
    point_sides,
    surface_anchor,
)
from vp3d.anatomy.vertebra import PART_KEYS

LEVELS = ("T7", "L1", "L4")
PAIRED = ("Pedicle", "Lamina", "Transverse process", "Articular process (facet joint)")


def part(name: str) -> int:
    return PART_NAMES.index(name)


@pytest.fixture(scope="module", params=LEVELS)
def labelled(request):
    """A level placed as in every scene, its surface mesh (patient frame) and the labels."""
    vertebra = placed_vertebra(request.param)
    points = np.asarray(vertebra.patient_mesh().points, dtype=float)
    labels = label_vertebra_points(vertebra, points)
    inv = np.linalg.inv(vertebra.transform)
    local = points @ inv[:3, :3].T + inv[:3, 3]
    return vertebra, points, local, labels


def test_part_names_are_plain_and_match_the_primitives():
    assert len(PART_NAMES) == len(PART_KEYS) == 6
    assert PART_NAMES[0] == "Vertebral body"
    assert {"Pedicle", "Lamina", "Spinous process", "Transverse process"} <= set(PART_NAMES)
    keys = {p.part for p in build_vertebra("L1").landmarks.primitives}
    assert keys == set(PART_KEYS)


def test_every_part_is_on_the_surface(labelled):
    _, points, _, labels = labelled
    assert labels.shape == (len(points),) and labels.dtype.kind == "i"
    counts = np.bincount(labels, minlength=len(PART_NAMES))
    assert (counts > 0.01 * len(points)).all(), dict(zip(PART_NAMES, counts))


def test_body_points_lie_within_the_published_body(labelled):
    vertebra, _, local, labels = labelled
    m = vertebra.morphometry
    body = local[labels == part("Vertebral body")]
    tol = 2.5  # fillets where the arch joins the body (2 mm blend) and mesh facets
    assert np.abs(body[:, 0]).max() <= m.endplate_width_mm / 2 + tol
    assert body[:, 1].max() <= m.endplate_depth_mm / 2 + tol
    assert body[:, 1].min() >= -m.endplate_depth_mm / 2 - 3.0 - tol  # posterior wall concavity
    assert np.abs(body[:, 2]).max() <= max(m.body_anterior_height_mm, m.body_posterior_height_mm) / 2 + tol
    # ... and the body is what fills that box: no arch point is labelled body.
    spinous = local[labels == part("Spinous process")]
    assert spinous[:, 1].max() < -m.endplate_depth_mm / 2


def test_pedicles_lie_between_body_and_lamina(labelled):
    vertebra, _, local, labels = labelled
    m = vertebra.morphometry
    y = {name: local[labels == part(name), 1] for name in ("Vertebral body", "Pedicle", "Lamina")}
    assert np.median(y["Lamina"]) < np.median(y["Pedicle"]) < np.median(y["Vertebral body"])
    # Behind the middle of the body (it joins the curved posterolateral wall, so it reaches
    # a little in front of the midline back wall) and never behind the laminae.
    assert y["Pedicle"].max() < -0.2 * m.endplate_depth_mm
    assert np.percentile(y["Pedicle"], 50) < -m.endplate_depth_mm / 2
    assert y["Pedicle"].min() >= y["Lamina"].min() - 2.0
    # At the isthmus the pedicles bound the canal: lateral to it, one on each side.
    ped = local[labels == part("Pedicle")]
    isthmus_y = vertebra.landmarks.pedicle_isthmus_mm[0][1]
    x = ped[np.abs(ped[:, 1] - isthmus_y) < 2.0, 0]
    assert np.abs(x).min() >= m.canal_width_mm / 2 - 1.0
    assert (x > 0).any() and (x < 0).any()


def test_left_and_right_are_symmetric(labelled):
    vertebra, points, _, labels = labelled
    sides = point_sides(vertebra, points)
    for name in PAIRED:
        right = np.sum((labels == part(name)) & (sides == 0))
        left = np.sum((labels == part(name)) & (sides == 1))
        assert abs(right - left) <= 0.08 * (right + left) + 5, (name, right, left)


def test_a_level_name_places_the_vertebra_as_in_the_scene():
    spine = build_spine("T12", "L2")
    v = spine.vertebrae["L2"]
    points = np.asarray(v.patient_mesh().points)[::7]
    assert np.array_equal(label_vertebra_points("L2", points), label_vertebra_points(v, points))
    assert np.allclose(placed_vertebra("l2").transform, v.transform)


def test_a_fractured_vertebra_keeps_its_labels():
    from vp3d.pathology.fracture import Fracture, fracture_spine

    spine = build_spine("T12", "L2")
    broken = fracture_spine(spine, Fracture("L1", 3, "wedge"), 1.0).vertebrae["L1"]
    intact = spine.vertebrae["L1"]
    moved = np.asarray(broken.patient_mesh().points)  # same points, deformed
    before = label_vertebra_points(intact, np.asarray(intact.patient_mesh().points))
    after = label_vertebra_points(broken, moved)
    assert np.mean(before == after) > 0.995


def test_anchors_one_per_part_and_side_on_their_part(labelled):
    vertebra, points, local, labels = labelled
    anchors = part_anchors(vertebra, points, labels)
    assert [(a.name, a.side) for a in anchors] == [(n, s) for n in PART_NAMES for s in ("right", "left")]
    for a in anchors:
        assert labels[a.index] == a.part
        assert np.allclose(a.point_mm, points[a.index])
        assert (local[a.index, 0] > 0) == (a.side == "right")
    # The transverse process is named near its tip, far to the side.
    tp = [a for a in anchors if a.name == "Transverse process"]
    span = vertebra.morphometry.transverse_process_span_mm
    assert tp and all(abs(local[a.index, 0]) > 0.35 * span for a in tp)


def test_surface_anchor_is_straight_out_from_the_centre():
    rng = np.random.default_rng(1)
    points = rng.normal(size=(500, 3))
    points /= np.linalg.norm(points, axis=1, keepdims=True)
    i = surface_anchor(points, (0, 0, 0), (0, 0, 1))
    assert points[i, 2] > 0.95


@pytest.mark.parametrize("level", ["L9", "S1", "", "T0"])
def test_unknown_level_is_a_value_error(level):
    with pytest.raises(ValueError, match="level must be one of T1\u2013L5"):
        label_vertebra_points(level, np.zeros((3, 3)))


@pytest.mark.parametrize("points", [np.zeros((4, 2)), np.zeros(3), np.full((2, 3), np.nan)])
def test_malformed_points_are_a_value_error(points):
    with pytest.raises(ValueError, match="points"):
        label_vertebra_points("L1", points)


def test_something_that_is_not_a_vertebra_is_a_value_error():
    spine = build_spine("L1", "L2")
    with pytest.raises(ValueError, match="vertebra"):
        label_vertebra_points(spine.discs[0], np.zeros((2, 3)))
    with pytest.raises(ValueError, match="one value per point"):
        part_anchors("L1", np.zeros((4, 3)), labels=np.zeros(3, dtype=int))
