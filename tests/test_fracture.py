"""Fractures: Genant grades measured on the deformed mesh, closure, mesh-volume agreement."""

from __future__ import annotations

import numpy as np
import pytest

from vp3d.anatomy import build_spine
from vp3d.anatomy.body import MEASURE_INSET_MM
from vp3d.checks import KINDS
from vp3d.pathology.fracture import GRADE_RANGES, Fracture, fracture_spine
from vp3d.geometry.contour import is_closed_manifold
from vp3d.anatomy.volume import Label
from tests.test_anatomy import _hits, inside_mesh


@pytest.fixture(scope="module")
def spine():
    return build_spine("T12", "L2")


def _heights(mesh_local, m):
    """Anterior, middle and posterior body heights on the midline of a local-frame mesh."""
    out = []
    for y in (m.endplate_depth_mm / 2 - MEASURE_INSET_MM, 0.0, -m.endplate_depth_mm / 2 + MEASURE_INSET_MM):
        h = _hits(mesh_local, np.array([0, y, -80.0]), np.array([0, y, 80.0]))
        assert len(h) == 2, h  # only the body lies on these midline verticals
        out.append(h[:, 2].max() - h[:, 2].min())
    return np.array(out)


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("grade", [1, 2, 3])
def test_height_loss_in_genant_range(spine, kind, grade):
    v = spine.vertebrae["L1"]
    intact = _heights(v.mesh, v.morphometry)
    broken = fracture_spine(spine, Fracture("L1", grade, kind), t=1.0).vertebrae["L1"]
    local = v.mesh.copy()
    local.points = broken.deformation.forward(local.points)
    loss = 1 - _heights(local, v.morphometry) / intact
    lo, hi = GRADE_RANGES[grade]
    key = {"wedge": 0, "biconcave": 1, "crush": 2}[kind]
    assert lo <= loss[key] <= hi, (kind, grade, loss)
    if kind == "wedge":
        assert loss[2] < 0.1  # the posterior wall is spared
    if kind == "biconcave":
        assert loss[0] < 0.05 and loss[2] < 0.05  # rims intact
    if kind == "crush":
        assert np.all(loss > lo)


@pytest.mark.parametrize("t", [0.0, 0.3, 0.7, 1.0])
def test_meshes_stay_closed_and_neighbours_follow(spine, t):
    f = fracture_spine(spine, Fracture("L1", 3, "wedge"), t=t)
    assert is_closed_manifold(f.vertebrae["L1"].patient_mesh())
    # Below the fracture nothing moves; above, T12 moves down and tilts forward with t.
    np.testing.assert_array_equal(f.vertebrae["L2"].transform, spine.vertebrae["L2"].transform)
    drop = spine.vertebrae["T12"].transform[2, 3] - f.vertebrae["T12"].transform[2, 3]
    assert (drop > 0.5) == (t > 0)
    # The rest keeps its shape: T12 moved rigidly.
    r = f.vertebrae["T12"].transform[:3, :3]
    np.testing.assert_allclose(r @ r.T, np.eye(3), atol=1e-9)


def test_mesh_and_volume_agree_and_show_compaction(spine):
    f = fracture_spine(spine, Fracture("L1", 2, "wedge"), t=1.0)
    vol = f.density_volume(spacing_mm=0.75)
    mesh = f.vertebrae["L1"].patient_mesh()
    lo, hi = np.array(mesh.bounds).reshape(3, 2).T
    bone = np.isin(vol.labels, [Label.CORTICAL_BONE, Label.TRABECULAR_BONE, Label.CLEFT])
    idx = np.argwhere(bone)
    pts = vol.points_mm(idx)
    sel = np.all((pts > lo + 1) & (pts < hi - 1), axis=1)
    pts = pts[sel]
    # Voxels of L1 only: its body column (T12 and L2 lie above and below).
    local = f.vertebrae["L1"].local_points(pts)
    own = f.vertebrae["L1"].distance_patient(pts) < 0
    inside = inside_mesh(pts[own], mesh)
    assert inside.mean() >= 0.98
    # Broken endplate and a denser band under it.
    assert np.any(vol.labels == Label.CLEFT)
    trab = vol.mu_per_mm[vol.labels == Label.TRABECULAR_BONE]
    intact = spine.density_volume(spacing_mm=0.75)
    assert trab.max() > intact.mu_per_mm[intact.labels == Label.TRABECULAR_BONE].max() * 1.05
    assert local.shape == pts.shape


def test_bad_fracture_parameters():
    with pytest.raises(ValueError, match="grade must be 1, 2 or 3"):
        Fracture("L1", 4)
    with pytest.raises(ValueError, match="type must be one of wedge, biconcave or crush"):
        Fracture("L1", 2, "burst")
    with pytest.raises(ValueError, match="level must be one of T1\u2013L5"):
        Fracture("L9")
    s = build_spine("L1", "L2")
    for bad in (-0.1, 1.5, float("nan")):
        with pytest.raises(ValueError, match="between 0 and 1"):
            fracture_spine(s, Fracture("L1"), t=bad)
    with pytest.raises(ValueError, match="not in this spine"):
        fracture_spine(s, Fracture("T5"), t=1.0)
