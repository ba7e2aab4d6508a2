"""Cement injection: volume, connectivity, where cement may go, monotone fill levels, viscosity,
leaks (venous, disc, epidural, overfill), kyphoplasty cavity, meshes, projections, and errors.

Most tests use a small synthetic vertebral body built here (1 mm voxels, a few thousand cement
voxels, milliseconds each); a few run on the anatomical model at 1 mm.
"""

from __future__ import annotations

import math
from types import SimpleNamespace

import numpy as np
import pytest
from scipy import ndimage

from vp3d.anatomy import attenuation
from vp3d.cement import LEAK_KINDS, MAX_TOTAL_ML, CementResult, simulate_injection
from vp3d.cement import bone
from vp3d.geometry.contour import is_closed_manifold
from vp3d.anatomy.volume import Label, Volume

ALLOWED_IN_BODY = (Label.TRABECULAR_BONE, Label.CLEFT)
FULL = np.ones((3, 3, 3), dtype=bool)  # 26-connectivity


# --- a synthetic vertebra ------------------------------------------------------------------------
def phantom(spacing=1.0, semi=(14.0, 11.0, 9.0), *, vein=False, cleft=(), discs=True, canal=True) -> Volume:
    """A rounded-box body (1 mm cortex) in soft tissue, discs above and below, a canal behind
    it, air further back; optionally a basivertebral vein and cleft patches in the cortex.

    ``cleft`` may hold "upper endplate" (a patch of the upper endplate over the centre) and
    "posterior wall" (a patch of the posterior wall beside the midline).
    """
    a, b, c = semi
    lo = np.array([-(a + 10.0), -(b + 16.0), -(c + 8.0)])
    hi = np.array([a + 10.0, b + 10.0, c + 8.0])
    shape = tuple(int(n) for n in np.round((hi - lo) / spacing).astype(int) + 1)
    x, y, z = (lo[i] + spacing * np.arange(shape[i]) for i in range(3))
    X, Y, Z = np.meshgrid(x, y, z, indexing="ij")
    labels = np.full(shape, Label.SOFT_TISSUE, dtype=np.uint8)
    labels[Y < -(b + 13.0)] = Label.AIR
    outline = (X / a) ** 4 + (Y / b) ** 4
    if discs:
        labels[(outline <= 1.0) & (np.abs(Z) > c - 0.5) & (np.abs(Z) < c + 5.0)] = Label.DISC
    if canal:
        labels[np.hypot(X, Y + b + 6.0) < 4.5] = Label.CANAL
    body = outline + (Z / c) ** 4 <= 1.0
    k = max(1, int(round(1.0 / spacing)))
    trab = ndimage.binary_erosion(body, FULL, iterations=k)
    labels[body] = Label.CORTICAL_BONE
    labels[trab] = Label.TRABECULAR_BONE
    cortex = body & ~trab
    if "upper endplate" in cleft:
        labels[cortex & (Z > 0) & (np.abs(X) < 7.0) & (np.abs(Y) < 6.0)] = Label.CLEFT
    if "posterior wall" in cleft:
        labels[cortex & (Y < 0) & (np.abs(X - 4.0) < 3.0) & (np.abs(Z) < 3.0)] = Label.CLEFT
    if vein:
        # from 1.5 mm behind the posterior wall to 6 mm into the body, on the midline
        labels[(np.hypot(X, Z) < 1.1) & (Y > -(b + 1.5)) & (Y < -b + 6.0)] = Label.VEIN
    lut = np.zeros(256, dtype=np.float32)
    for lab, mu in attenuation.label_mu_per_mm("osteoporotic").items():
        lut[int(lab)] = mu
    return Volume(lut[labels], spacing, lo, labels)


def needle(tip, *, od=3.05, from_side=1.0):
    """A duck-typed cannula reaching ``tip`` from behind and from one side (+1 right, -1 left)."""
    tip = np.asarray(tip, dtype=float)
    axis = np.array([from_side * math.sin(math.radians(25.0)), -math.cos(math.radians(25.0)), 0.05])
    return SimpleNamespace(tip_mm=tip, hub_mm=tip + 150.0 * axis / np.linalg.norm(axis), outer_diameter_mm=od)


@pytest.fixture(scope="module")
def body():
    return phantom()


@pytest.fixture(scope="module")
def fill(body):
    return simulate_injection(body, needle([1.0, 3.0, 0.0]), 4.0)


def check_allowed(result: CementResult, ml: float) -> None:
    """No cement outside trabecular bone / cleft except along a reported leak."""
    mask = result.mask_at(ml)
    leaked = result.leak_mask_at(ml)
    outside = mask & ~np.isin(result.volume.labels, ALLOWED_IN_BODY)
    assert not np.any(outside & ~leaked), sorted({Label(int(v)).name for v in result.volume.labels[outside & ~leaked]})
    assert not np.any(mask & (result.volume.labels == Label.AIR))
    total_leak = sum(lk.volume_ml for lk in result.leaks_at(ml))
    assert leaked.sum() * result.voxel_ml == pytest.approx(total_leak, abs=1e-9)


def check_connected(result: CementResult, ml: float) -> None:
    """Every 26-connected piece of the cement holds a cannula tip."""
    mask = result.mask_at(ml)
    lab, n = ndimage.label(mask, FULL)
    tips = {int(lab[tuple(np.round((t - result.volume.origin_mm) / result.volume.spacing_mm).astype(int))])
            for t in result.tips_mm}
    assert 0 not in tips
    assert set(range(1, n + 1)) <= tips


# --- volume, connectivity, monotone ------------------------------------------------------------
@pytest.mark.parametrize("ml", [0.3, 1.0, 2.5, 4.0])
def test_voxel_volume_matches_requested_ml(fill, ml):
    mask = fill.mask_at(ml)
    assert mask.dtype == bool and mask.shape == fill.volume.shape
    assert mask.sum() * fill.volume.voxel_volume_mm3 / 1000.0 == pytest.approx(ml, rel=0.03)
    assert fill.volume_ml(ml) == pytest.approx(ml, rel=0.03)


@pytest.mark.parametrize("ml", [0.5, 2.0, 4.0])
def test_cement_is_connected_to_the_tip(fill, ml):
    check_connected(fill, ml)


def test_fill_levels_are_nested(fill):
    levels = [0.0, 0.2, 0.9, 1.7, 3.1, 4.0]
    masks = [fill.mask_at(ml) for ml in levels]
    assert masks[0].sum() == 0
    for small, large in zip(masks, masks[1:]):
        assert np.all(large[small]) and large.sum() > small.sum()


def test_no_cement_in_cortex_canal_or_air_without_a_leak(fill):
    assert fill.leaks == []
    for ml in (1.0, 4.0):
        check_allowed(fill, ml)
        assert np.all(np.isin(fill.volume.labels[fill.mask_at(ml)], ALLOWED_IN_BODY))


def test_cement_surrounds_the_tip_first(fill, body):
    rank = fill.rank_volume()
    tip = np.round((fill.tips_mm[0] - body.origin_mm) / body.spacing_mm).astype(int)
    assert rank[tuple(tip)] == 0
    # the first 0.5 mL gathers round the tip (a 0.5 mL ball has a 4.9 mm radius); fingers reach further
    dist = np.linalg.norm(body.points_mm(np.argwhere(fill.mask_at(0.5))) - fill.tips_mm[0], axis=1)
    assert np.percentile(dist, 75) < 8.0 and dist.max() < 14.0


def test_same_seed_same_fill_other_seed_other_fill(body, fill):
    again = simulate_injection(body, needle([1.0, 3.0, 0.0]), 4.0)
    assert np.array_equal(again.order, fill.order)
    other = simulate_injection(body, needle([1.0, 3.0, 0.0]), 4.0, seed=7)
    assert not np.array_equal(other.order, fill.order)
    overlap = (other.mask_at(2.0) & fill.mask_at(2.0)).sum() / fill.mask_at(2.0).sum()
    assert 0.3 < overlap < 0.98


def test_heterogeneity_is_anchored_to_the_patient_frame():
    rng = np.random.default_rng(3)
    pts = rng.uniform(-30.0, 30.0, size=(4000, 3))
    whole = bone.heterogeneity(pts, seed=5, correlation_mm=2.0)
    part = bone.heterogeneity(pts[:50] * 0.2, seed=5, correlation_mm=2.0)  # a different box
    again = bone.heterogeneity(pts[:50] * 0.2, seed=5, correlation_mm=2.0)
    assert np.array_equal(part, again)
    assert np.allclose(bone.heterogeneity(pts[:200], seed=5, correlation_mm=2.0), whole[:200], atol=1e-6)
    assert abs(whole.mean()) < 0.15 and 0.7 < whole.std() < 1.2


# --- viscosity ----------------------------------------------------------------------------------
def _shape_stats(result, ml):
    mask = result.mask_at(ml)
    pts = result.volume.points_mm(np.argwhere(mask))
    gyration = float(np.sqrt(((pts - pts.mean(axis=0)) ** 2).sum(axis=1).mean()))
    interior = ndimage.binary_erosion(mask, ndimage.generate_binary_structure(3, 1))
    surface_fraction = 1.0 - interior.sum() / mask.sum()
    return gyration, surface_fraction


def test_viscosity_changes_the_shape(body):
    runny = simulate_injection(body, needle([1.0, 0.0, 0.0]), 2.0, viscosity_pa_s=10.0)
    dough = simulate_injection(body, needle([1.0, 0.0, 0.0]), 2.0, viscosity_pa_s=2000.0)
    g_runny, s_runny = _shape_stats(runny, 2.0)
    g_dough, s_dough = _shape_stats(dough, 2.0)
    # viscous cement: a compact, rounder cloud; runny cement: fingers (more surface, wider spread)
    assert s_runny > 1.3 * s_dough
    assert g_runny > 1.1 * g_dough
    # a 2 mL ellipsoid elongated by sqrt(anisotropy) has a gyration radius near 7 mm
    assert g_dough < 8.0
    assert runny.stabilisation_mm > dough.stabilisation_mm


def test_stabilisation_length_scales_with_viscosity_and_permeability():
    ref = bone.stabilisation_length_mm(bone.DEFAULT_VISCOSITY_PA_S)
    assert ref == pytest.approx(bone.REFERENCE_STABILISATION_MM)
    assert bone.stabilisation_length_mm(2 * bone.DEFAULT_VISCOSITY_PA_S) == pytest.approx(ref / 2)
    assert bone.stabilisation_length_mm(100.0, 4 * bone.DEFAULT_PERMEABILITY_M2) == pytest.approx(2 * ref)


# --- leaks --------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def veined():
    return phantom(vein=True)


def test_tip_near_the_basivertebral_vein_leaks_venous(veined):
    b = 11.0
    result = simulate_injection(veined, needle([2.0, -b + 7.5, 0.0]), 3.0)
    kinds = [lk.kind for lk in result.leaks]
    assert "venous" in kinds
    leak = result.leaks[kinds.index("venous")]
    assert leak.yeom_type == "B" and leak.first_ml < 1.5 and leak.volume_ml > 0
    leaked = result.leak_mask_at(3.0)
    labs = veined.labels[leaked]
    assert np.any(labs == Label.VEIN)
    # out of the foramen into the epidural space behind the posterior wall
    behind = veined.points_mm(np.argwhere(leaked))[:, 1] < -b - 0.5
    assert behind.any()
    check_allowed(result, 3.0)
    check_connected(result, 3.0)
    assert "venous" not in [lk.kind for lk in result.leaks_at(leak.first_ml - 0.01)]


def test_runny_cement_reaches_the_vein_earlier(veined):
    """Over several bones (seeds): fingers of runny cement reach a vein 9 mm away sooner."""
    first = {}
    for visc in (15.0, 1500.0):
        ml = []
        for seed in range(6):
            r = simulate_injection(veined, needle([2.0, 4.0, 0.0]), 5.0, viscosity_pa_s=visc, seed=seed)
            venous = [lk for lk in r.leaks if lk.kind == "venous"]
            ml.append(venous[0].first_ml if venous else math.inf)
        first[visc] = np.median(ml)
    assert first[15.0] < 0.5 * first[1500.0]


def test_anterior_tip_without_defects_does_not_leak(veined):
    result = simulate_injection(veined, needle([0.0, 6.0, 0.0]), 0.6)
    assert result.leaks == []


def test_leak_volumes_grow_with_the_fill(veined):
    result = simulate_injection(veined, needle([2.0, -3.5, 0.0]), 4.0)
    leak = [lk for lk in result.leaks if lk.kind == "venous"][0]
    assert result.leaks_at(max(leak.first_ml - 0.05, 0.0)) == []
    volumes = [result.leaks_at(ml)[0].volume_ml for ml in np.linspace(leak.first_ml, 4.0, 6)]
    assert all(b >= a for a, b in zip(volumes, volumes[1:]))
    assert volumes[-1] == pytest.approx(leak.volume_ml)


def test_overfilling_a_small_body_leaks_through_segmental_veins():
    small = phantom(semi=(7.0, 6.0, 5.0), discs=False)
    capacity_ml = (small.labels == Label.TRABECULAR_BONE).sum() * small.voxel_volume_mm3 / 1000.0
    result = simulate_injection(small, needle([1.0, 1.0, 0.0], od=1.8), capacity_ml + 0.5)
    assert result.leaks, "an overfilled body must leak"
    leak = result.leaks[0]
    assert leak.kind == "venous/paravertebral" and leak.yeom_type == "S"
    assert leak.first_ml > 0.8 * capacity_ml
    check_allowed(result, result.total_ml)
    check_connected(result, result.total_ml)
    # the breach and the leak lie in front of or beside the body (anterolateral waist)
    pts = small.points_mm(np.argwhere(result.leak_mask_at(result.total_ml)))
    assert np.median(pts[:, 1]) > -2.0


def test_broken_upper_endplate_leaks_into_the_disc():
    vol = phantom(cleft=("upper endplate",))
    result = simulate_injection(vol, needle([0.0, 2.0, 4.0]), 4.0)
    disc = [lk for lk in result.leaks if lk.kind == "disc"]
    assert disc and disc[0].side == "superior" and disc[0].yeom_type == "C"
    leaked = result.leak_mask_at(4.0)
    assert np.all(np.isin(vol.labels[leaked], (Label.DISC,)))
    check_allowed(result, 4.0)
    check_connected(result, 4.0)


def test_posterior_wall_defect_leaks_into_the_epidural_space():
    vol = phantom(cleft=("posterior wall",))
    result = simulate_injection(vol, needle([4.0, -6.0, 0.0]), 4.0)
    kinds = [lk.kind for lk in result.leaks]
    assert "epidural/canal" in kinds
    check_allowed(result, 4.0)


def test_leak_kinds_are_the_documented_ones():
    assert set(LEAK_KINDS) == {"venous", "disc", "epidural/canal", "paravertebral", "venous/paravertebral"}


# --- kyphoplasty cavity and bipedicular ----------------------------------------------------------
def test_cavity_fills_before_any_trabecular_voxel(body):
    tip = np.array([0.0, 2.0, 0.0])
    pts = body.points_mm(np.indices(body.shape).transpose(1, 2, 3, 0))
    cavity = (np.linalg.norm(pts - tip, axis=-1) < 4.0) & (body.labels == Label.TRABECULAR_BONE)
    result = simulate_injection(body, needle(tip), 1.5, cavity_mask=cavity)
    # the cannula occupies part of the cavity; the rest fills first
    n_cavity = int(round(result.cavity_ml / result.voxel_ml))
    assert 0.85 * cavity.sum() < n_cavity <= cavity.sum()
    rank = result.rank_volume()
    filled_cavity = rank[cavity & (rank >= 0)]
    assert np.array_equal(np.sort(filled_cavity), np.arange(n_cavity))
    assert rank[~cavity & (rank >= 0)].min() == n_cavity
    assert np.all(cavity[result.mask_at(result.cavity_ml)])


def test_bipedicular_fill_crosses_the_midline(body):
    pair = [needle([5.0, 3.0, 0.0], from_side=1.0), needle([-5.0, 3.0, 0.0], from_side=-1.0)]
    result = simulate_injection(body, pair, 3.0)
    pts = body.points_mm(np.argwhere(result.mask_at(3.0)))
    assert (pts[:, 0] > 2.0).sum() > 0.25 * len(pts) and (pts[:, 0] < -2.0).sum() > 0.25 * len(pts)
    assert np.any(np.abs(pts[:, 0]) < 0.6)
    check_connected(result, 3.0)


# --- mesh and projection ------------------------------------------------------------------------
def test_mesh_is_closed_in_patient_mm_and_close_to_the_volume(fill):
    mesh = fill.mesh_at(3.0)
    assert is_closed_manifold(mesh)
    pts = fill.volume.points_mm(np.argwhere(fill.mask_at(3.0)))
    lo, hi = pts.min(axis=0), pts.max(axis=0)
    b = np.array(mesh.bounds).reshape(3, 2)
    assert np.all(b[:, 0] > lo - 1.5) and np.all(b[:, 1] < hi + 1.5)
    assert mesh.volume / 1000.0 == pytest.approx(3.0, rel=0.15)
    assert fill.mesh_at(3.0) is mesh  # cached
    assert fill.mesh_at(0.0).n_points == 0


def test_line_integrals_equal_the_full_mask_projection(fill):
    from vp3d.fluoro import CArm, mask_line_integrals

    for lao in (0.0, -90.0):
        carm = CArm(isocenter_mm=np.zeros(3), lao_deg=lao, cranial_deg=0.0, rows=64, cols=64, field_mm=80.0)
        mine = fill.line_integrals(carm, 2.0)
        full = mask_line_integrals(fill.mask_at(2.0), fill.volume, carm, attenuation.cement_mu_per_mm())
        assert mine.shape == (64, 64)
        assert np.allclose(mine, full, atol=1e-4)
        assert mine.max() > 1.0  # ~1 cm of cement at 0.15 /mm
        assert not np.any(fill.line_integrals(carm, 0.0))


# --- errors -------------------------------------------------------------------------------------
@pytest.mark.parametrize("kwargs, words", [
    (dict(total_ml=-1.0), "total_ml"),
    (dict(total_ml=float("nan")), "total_ml"),
    (dict(total_ml=0.0), "above 0"),
    (dict(total_ml=MAX_TOTAL_ML + 0.5), "12"),
    (dict(total_ml="3"), "total_ml"),
    (dict(viscosity_pa_s=1.0), "viscosity_pa_s"),
    (dict(viscosity_pa_s=float("inf")), "5000"),
    (dict(seed=-1), "seed"),
    (dict(seed=1.5), "seed"),
    (dict(permeability_m2=1.0), "permeability_m2"),
    (dict(anisotropy=0.5), "anisotropy"),
    (dict(correlation_mm=0.0), "correlation_mm"),
])
def test_out_of_range_parameters_raise(body, kwargs, words):
    args = dict(total_ml=2.0)
    args.update(kwargs)
    total = args.pop("total_ml")
    with pytest.raises(ValueError, match=words):
        simulate_injection(body, needle([1.0, 3.0, 0.0]), total, **args)


@pytest.mark.parametrize("tip, words", [
    ([500.0, 0.0, 0.0], "outside the volume"),
    ([0.0, 0.0, float("nan")], "finite"),
    ([0.0, -20.0, 0.0], "CANAL"),  # behind the body
    ([0.0, 20.0, 0.0], "SOFT_TISSUE"),  # in front of it
    ([0.0, 0.0, 8.6], "CORTICAL_BONE"),  # in the upper endplate
    ([0.0, 0.0, 11.0], "DISC"),
])
def test_bad_tips_raise(body, tip, words):
    with pytest.raises(ValueError, match=words):
        simulate_injection(body, needle(tip), 2.0)


def test_bad_needles_and_volumes_raise(body):
    with pytest.raises(ValueError, match="tip_mm, hub_mm and outer_diameter_mm"):
        simulate_injection(body, object(), 2.0)
    with pytest.raises(ValueError, match="outer_diameter_mm"):
        simulate_injection(body, needle([1.0, 3.0, 0.0], od=9.0), 2.0)
    with pytest.raises(ValueError, match="1 to 4 needles"):
        simulate_injection(body, [], 2.0)
    with pytest.raises(ValueError, match="labels"):
        simulate_injection(Volume(body.mu_per_mm, body.spacing_mm, body.origin_mm), needle([1.0, 3.0, 0.0]), 2.0)
    with pytest.raises(ValueError, match="spacing_mm"):
        coarse = Volume(body.mu_per_mm, 3.0, body.origin_mm, body.labels)
        simulate_injection(coarse, needle([1.0, 3.0, 0.0]), 2.0)


def test_bad_cavities_raise(body):
    tip = np.array([0.0, 2.0, 0.0])
    with pytest.raises(ValueError, match="boolean array"):
        simulate_injection(body, needle(tip), 1.0, cavity_mask=np.zeros(3, bool))
    far = np.zeros(body.shape, bool)
    far[tuple(np.round((np.array([0.0, 8.0, 0.0]) - body.origin_mm) / body.spacing_mm).astype(int))] = True
    with pytest.raises(ValueError, match="cavity"):
        simulate_injection(body, needle(tip), 1.0, cavity_mask=far)
    in_soft = body.labels == Label.SOFT_TISSUE
    with pytest.raises(ValueError, match="SOFT_TISSUE"):
        simulate_injection(body, needle(tip), 1.0, cavity_mask=in_soft)


def test_fill_level_queries_outside_the_simulated_range_raise(fill):
    for bad in (-0.1, fill.total_ml + 0.1, float("nan"), None):
        with pytest.raises(ValueError, match="between 0 and"):
            fill.mask_at(bad)
    with pytest.raises(ValueError, match="between 0 and"):
        fill.leaks_at(99.0)


def test_more_cement_than_the_body_and_routes_hold_raises():
    tiny = phantom(semi=(5.0, 5.0, 4.0), discs=False, canal=False)
    with pytest.raises(ValueError, match="at most"):
        simulate_injection(tiny, needle([0.0, 0.0, 0.0], od=1.8), 11.0)


# --- on the anatomical model ----------------------------------------------------------------------
SPACING_MM = 1.0


@pytest.fixture(scope="module")
def spine():
    from vp3d.anatomy import build_spine

    return build_spine("T12", "L2")


def _planned_needle(volume, spine, level="L1", side="right", bipedicular=False):
    """The planned needle at its target. The planner aims at the intact body; where the target
    of a collapsed body is not in its trabecular bone, back the needle off along the planned
    path until the tip is (no-op for intact and grade-2 bodies)."""
    needle_mod = pytest.importorskip("vp3d.needle.path")
    traj = needle_mod.plan_trajectory(spine, level, side, bipedicular=bipedicular)
    for back in np.arange(0.0, 20.0, 0.5):
        n = needle_mod.Needle(traj, traj.target_depth_mm - back)
        idx = np.round((n.tip_mm - volume.origin_mm) / volume.spacing_mm).astype(int)
        k = int(round(1.0 / volume.spacing_mm))  # 1 mm of bone all round the tip
        block = volume.labels[idx[0] - k:idx[0] + k + 1, idx[1] - k:idx[1] + k + 1, idx[2] - k:idx[2] + k + 1]
        if np.all(block == Label.TRABECULAR_BONE):
            return n, back
    pytest.fail("no depth along the planned path puts the tip in trabecular bone")


def _disc_distances(volume, tip_mm):
    """Distance maps (mm) to the disc above and to the disc below the tip."""
    disc = volume.labels == Label.DISC
    z = volume.axis_mm(2)[None, None, :]
    up = ndimage.distance_transform_edt(~(disc & (z > tip_mm[2])), sampling=volume.spacing_mm)
    down = ndimage.distance_transform_edt(~(disc & (z < tip_mm[2])), sampling=volume.spacing_mm)
    return up, down


def test_intact_l1_fill_is_an_anterior_cloud(spine):
    volume = spine.density_volume(SPACING_MM, bone_quality="osteoporotic")
    n, back = _planned_needle(volume, spine)
    assert back == 0.0
    result = simulate_injection(volume, n, 3.0)
    check_allowed(result, 3.0)
    check_connected(result, 3.0)
    assert sum(lk.volume_ml for lk in result.leaks) < 0.1
    body = result.mask_at(3.0) & ~result.leak_mask_at(3.0)
    pts = volume.points_mm(np.argwhere(body))
    # in L1 (patient origin at its body centre; endplate depth 32.5 mm): the anterior two thirds
    depth = spine.vertebrae["L1"].morphometry.endplate_depth_mm
    assert np.mean(pts[:, 1] > -depth / 6) > 0.9
    assert np.abs(pts[:, 2]).max() < 14.0


def test_grade2_l1_3ml_reaches_both_endplates(spine):
    fracture = pytest.importorskip("vp3d.pathology.fracture")
    broken = fracture.fracture_spine(spine, fracture.Fracture(level="L1", grade=2, kind="wedge"), t=1.0)
    volume = broken.density_volume(SPACING_MM, bone_quality="osteoporotic")
    n, back = _planned_needle(volume, broken)
    assert back == 0.0
    result = simulate_injection(volume, n, 3.0)
    body = result.mask_at(3.0) & ~result.leak_mask_at(3.0)
    up, down = _disc_distances(volume, n.tip_mm)
    # within ~2 mm of each endplate: the endplate cortex (1 mm) and 2 mm of bone under it
    assert up[body].min() <= 3.0
    assert down[body].min() <= 3.0
    check_allowed(result, 3.0)
    check_connected(result, 3.0)


def test_grade3_l1_8ml_leaks(spine):
    fracture = pytest.importorskip("vp3d.pathology.fracture")
    broken = fracture.fracture_spine(spine, fracture.Fracture(level="L1", grade=3, kind="wedge"), t=1.0)
    volume = broken.density_volume(SPACING_MM, bone_quality="osteoporotic")
    n, _ = _planned_needle(volume, broken)
    result = simulate_injection(volume, n, 8.0)
    assert result.leaks
    assert all(lk.kind in LEAK_KINDS and lk.volume_ml > 0 for lk in result.leaks)
    check_allowed(result, 8.0)
    check_connected(result, 8.0)


def test_kyphoplasty_cavity_fills_first_then_the_bone(spine):
    kypho = pytest.importorskip("vp3d.pathology.kyphoplasty")
    needle_mod = pytest.importorskip("vp3d.needle.path")
    fracture = pytest.importorskip("vp3d.pathology.fracture")
    trajs = [needle_mod.plan_trajectory(spine, "L1", side) for side in ("right", "left")]
    balloons = [kypho.Balloon(needle_mod.Needle(t, t.target_depth_mm).tip_mm, t.direction, 3.0) for t in trajs]
    reduced = kypho.reduce_fracture(spine, fracture.Fracture("L1", 2, "wedge"), 1.0, balloons)
    volume = reduced.density_volume(SPACING_MM, bone_quality="osteoporotic")
    cavity = kypho.cavity_mask(volume, balloons)
    volume = kypho.with_cavity(volume, balloons)
    # cement cannulas withdrawn to the balloon centres
    cannulas = [needle_mod.Needle(t, t.target_depth_mm - kypho.BALLOON_LENGTH_MM / 2) for t in trajs]
    result = simulate_injection(volume, cannulas, 8.0, cavity_mask=cavity)
    n = int(round(result.cavity_ml / result.voxel_ml))
    assert n > 0.85 * cavity.sum()
    rank = result.rank_volume()
    assert np.all(cavity[result.mask_at(result.cavity_ml)])
    assert rank[~cavity & (rank >= 0)].min() >= n - len(cannulas)
    assert all(lk.first_ml >= 0.95 * result.cavity_ml for lk in result.leaks)  # no leak while it fills
    check_allowed(result, 8.0)
