"""Anatomy: morphometry measured on the generated meshes, closure, contacts, the volume."""

from __future__ import annotations

import numpy as np
import pytest
import vtk

from vp3d.anatomy import attenuation
from vp3d.anatomy import LEVELS, build_spine, build_vertebra
from vp3d.anatomy.body import MEASURE_INSET_MM
from vp3d.anatomy.spine import DISC_CLEARANCE_MM
from vp3d.geometry.contour import is_closed_manifold
from vp3d.anatomy.morphometry import morphometry
from vp3d.anatomy.volume import Label

from tests.volume_regions import fine_core, surround_outside


def _hits(mesh, start, end):
    """Intersections of the segment start->end with the mesh, ordered from start."""
    tree = vtk.vtkCellLocator()
    tree.SetDataSet(mesh)
    tree.BuildLocator()
    pts = vtk.vtkPoints()
    tree.IntersectWithLine(list(map(float, start)), list(map(float, end)), 1e-6, pts, None)
    out = np.array([pts.GetPoint(i) for i in range(pts.GetNumberOfPoints())])
    if len(out):
        t = np.linalg.norm(out - start, axis=1)
        out, t = out[np.argsort(t)], np.sort(t)
        out = out[np.concatenate([[True], np.diff(t) > 1e-3])]  # a ray through an edge hits twice
    return out


def inside_mesh(points, mesh):
    """Points strictly inside a closed, outward-oriented mesh (signed implicit distance < 0).

    vtkSelectEnclosedPoints casts random rays and was seen to change its answer between
    runs; the signed distance to the surface does not.
    """
    import pyvista as pv

    d = pv.PolyData(np.asarray(points, float)).compute_implicit_distance(mesh)["implicit_distance"]
    return d < 0


def _within(measured, expected, tol=0.05):
    return abs(measured - expected) <= tol * expected


@pytest.fixture(scope="module")
def vertebrae():
    return {lv: build_vertebra(lv) for lv in LEVELS}


@pytest.mark.parametrize("level", LEVELS)
def test_body_dimensions_match_table(vertebrae, level):
    v, m = vertebrae[level], morphometry(level)
    mesh = v.mesh
    assert is_closed_manifold(mesh)
    # Heights: vertical rays on the midline, MEASURE_INSET_MM inside the walls.
    for y, expected in ((m.endplate_depth_mm / 2 - MEASURE_INSET_MM, m.body_anterior_height_mm),
                        (-m.endplate_depth_mm / 2 + MEASURE_INSET_MM, m.body_posterior_height_mm)):
        hits = _hits(mesh, np.array([0, y, -80.0]), np.array([0, y, 80.0]))
        # Body top and bottom are the two hits closest to z = 0 on either side.
        below, above = hits[hits[:, 2] < 0, 2].max(), hits[hits[:, 2] > 0, 2].min()
        assert _within(above - below, expected), (level, y, above - below, expected)
    z = m.body_posterior_height_mm / 2 - 2.0  # just under the upper endplate rim
    # Depth: antero-posterior ray on the midline; the body's two walls are the first hits.
    hits = _hits(mesh, np.array([0, 120.0, z]), np.array([0, -120.0, z]))
    depth = hits[0, 1] - hits[1, 1]
    assert _within(depth, m.endplate_depth_mm), (level, depth)
    # Width: widest transverse chord of the body in front of the pedicles.
    widths = []
    for y in np.linspace(-m.endplate_depth_mm / 2 + 2, m.endplate_depth_mm / 2 - 2, 25):
        h = _hits(mesh, np.array([-120.0, y, z]), np.array([120.0, y, z]))
        inner = h[np.abs(h[:, 0]) < m.endplate_width_mm]  # ignore processes far out
        if len(inner) >= 2:
            widths.append(inner[:, 0].max() - inner[:, 0].min())
    assert _within(max(widths), m.endplate_width_mm), (level, max(widths))


@pytest.mark.parametrize("level", LEVELS)
def test_pedicle_width_matches_table(vertebrae, level):
    v, m = vertebrae[level], morphometry(level)
    for side, (isthmus, axis) in enumerate(zip(v.landmarks.pedicle_isthmus_mm, v.landmarks.pedicle_axis)):
        across = np.cross(axis, [0.0, 0.0, 1.0])
        across /= np.linalg.norm(across)
        # From the pedicle's centre outwards both ways: the first wall hit on each side.
        a = _hits(v.mesh, isthmus, isthmus + 30 * across)[0]
        b = _hits(v.mesh, isthmus, isthmus - 30 * across)[0]
        width = np.linalg.norm(a - b)
        assert _within(width, m.pedicle_width_mm, 0.05), (level, side, width, m.pedicle_width_mm)


def test_unknown_levels_name_the_valid_ones():
    for bad in ("L7", "T13", "x"):
        with pytest.raises(ValueError, match="level must be one of T1\u2013L5"):
            build_vertebra(bad)
    with pytest.raises(ValueError, match="above"):
        build_spine("L2", "L1")


@pytest.fixture(scope="module")
def spine():
    return build_spine("T10", "L5")


def test_every_part_is_closed_and_placed(spine):
    names = [p.name for p in spine.parts]
    assert names[:3] == ["T10", "disc T10-T11", "nucleus T10-T11"]
    assert names[-2:] == ["cord", "skin"]
    for p in spine.parts:
        assert is_closed_manifold(p.patient_mesh()), p.name
    # L1 is the patient origin; levels descend in z.
    zs = [spine.vertebrae[lv].transform[2, 3] for lv in spine.levels]
    assert spine.vertebrae["L1"].transform[2, 3] == 0 and np.all(np.diff(zs) < 0)


def _grid_points(lo, hi, step):
    axes = [np.arange(a, b, step) for a, b in zip(lo, hi)]
    return np.stack(np.meshgrid(*axes, indexing="ij"), axis=-1).reshape(-1, 3)


def test_neighbours_do_not_interpenetrate(spine):
    parts = list(spine.vertebrae.values())
    for upper, lower in zip(parts, parts[1:]):
        (alo, ahi), (blo, bhi) = upper.patient_bounds(), lower.patient_bounds()
        pts = _grid_points(np.maximum(alo, blo), np.minimum(ahi, bhi), 0.5)
        both = (upper.distance_patient(pts) < 0) & (lower.distance_patient(pts) < 0)
        # Contact is allowed only at the facet joints, and only as a small rim.
        joints = [lower.transform[:3, :3] @ j.center_mm + lower.transform[:3, 3]
                  for j in lower.landmarks.superior_joints]
        near = np.min([np.linalg.norm(pts[both] - j, axis=1) for j in joints], axis=0) \
            if both.any() else np.zeros(0)
        assert np.all(near < 12.0), (upper.name, lower.name, "contact away from the facets")
        assert both.sum() * 0.125 < 60.0, (upper.name, lower.name, both.sum() * 0.125)  # mm^3
    for disc, (up, lo) in zip(spine.discs, zip(spine.levels, spine.levels[1:])):
        lo_b, hi_b = disc.patient_bounds()
        pts = _grid_points(lo_b, hi_b, 0.5)
        d = disc.distance_patient(pts)
        for lv in (up, lo):
            assert np.sum((d < 0) & (spine.vertebrae[lv].distance_patient(pts) < 0)) == 0


def test_discs_fill_the_gap_between_endplates(spine):
    for disc, (up, lo) in zip(spine.discs, zip(spine.levels, spine.levels[1:])):
        m = morphometry(up)
        frame = disc.transform
        filled = []
        for x in np.linspace(-0.3, 0.3, 5) * m.endplate_width_mm:
            for y in np.linspace(-0.3, 0.3, 5) * m.endplate_depth_mm:
                zs = np.linspace(-15, 15, 301)
                local = np.stack([np.full_like(zs, x), np.full_like(zs, y), zs], axis=1)
                pts = local @ frame[:3, :3].T + frame[:3, 3]
                bone = np.minimum(spine.vertebrae[up].distance_patient(pts),
                                  spine.vertebrae[lo].distance_patient(pts))
                gap = bone > DISC_CLEARANCE_MM + 0.2  # between the endplates, past the clearance
                inner = gap & (np.abs(zs) < 12)
                filled.append(np.mean(disc.distance_patient(pts[inner]) < 0))
        assert np.mean(filled) > 0.97, (disc.name, np.mean(filled))


@pytest.fixture(scope="module")
def volume(spine):
    return spine.density_volume(spacing_mm=1.0)


def test_volume_values_follow_cited_coefficients(spine, volume):
    expected = attenuation.label_mu_per_mm("normal")
    around = volume.surround
    for label, mu in expected.items():
        core = fine_core(volume)  # deeper than the band where the box blends into the trunk
        sel = volume.labels[core] == label
        out = (around.labels == label) & surround_outside(volume)  # the trunk outside the fine box
        assert sel.any() or out.any() or label == Label.CLEFT, label  # clefts only in fractures
        np.testing.assert_allclose(volume.mu_per_mm[core][sel], mu, rtol=1e-6)
        np.testing.assert_allclose(around.mu_per_mm[out], mu, rtol=1e-6)
    # Water at 60 keV is 0.206 cm^2/g (NIST); soft tissue and bone in their known order.
    assert 0.0200 < expected[Label.SOFT_TISSUE] < 0.0225
    assert 0.055 < expected[Label.CORTICAL_BONE] < 0.065
    assert expected[Label.FAT] < expected[Label.SOFT_TISSUE] < expected[Label.TRABECULAR_BONE]
    osteo = spine.density_volume(spacing_mm=2.0, bone_quality="osteoporotic")
    assert osteo.mu_per_mm[osteo.labels == Label.TRABECULAR_BONE].max() < expected[Label.TRABECULAR_BONE]
    with pytest.raises(ValueError, match="bone quality"):
        spine.density_volume(spacing_mm=2.0, bone_quality="weak")
    with pytest.raises(ValueError, match="spacing_mm"):
        spine.density_volume(spacing_mm=0.0)


def test_volume_bone_agrees_with_meshes(spine, volume):
    bone = np.isin(volume.labels, [Label.CORTICAL_BONE, Label.TRABECULAR_BONE])
    idx = np.argwhere(bone)
    rng = np.random.default_rng(0)
    idx = idx[rng.choice(len(idx), size=min(20000, len(idx)), replace=False)]
    pts = volume.points_mm(idx)
    meshes = [v.patient_mesh() for v in spine.vertebrae.values()]
    inside = np.zeros(len(idx), bool)
    for mesh in meshes:
        inside |= inside_mesh(pts, mesh)
    assert inside.mean() >= 0.98, inside.mean()
    # And the other way: points inside a mesh are bone in the volume.
    for mesh in meshes[:3]:
        lo, hi = np.array(mesh.bounds).reshape(3, 2).T
        cand = rng.uniform(lo, hi, size=(20000, 3))
        sel = inside_mesh(cand, mesh)
        ijk = np.round((cand[sel] - volume.origin_mm) / volume.spacing_mm).astype(int)
        assert np.mean(bone[tuple(ijk.T)]) >= 0.95


def test_volume_geometry_convention(spine, volume):
    """mu[i, j, k] is at origin + spacing * (i, j, k): L1's body centre is trabecular bone."""
    ijk = np.round((np.zeros(3) - volume.origin_mm) / volume.spacing_mm).astype(int)
    assert volume.labels[tuple(ijk)] == Label.TRABECULAR_BONE
    # Behind the skin of the back is air; the skin is behind the spinous processes.
    assert volume.labels[ijk[0], 0, ijk[2]] == Label.AIR


def test_every_morphometry_column_names_its_published_source():
    """Each number in the table can be traced: every column's header comment cites a dated source."""
    import re

    from vp3d.anatomy.morphometry import _rows, column_sources

    sources = column_sources()
    _, rows = _rows()
    columns = rows[0][1:]
    assert len(columns) >= 15
    for column in columns:
        assert column in sources, f"{column} has no source comment"
        assert re.search(r"(19|20)\d\d", sources[column]), f"{column}: {sources[column][:80]}"
