"""Fluoroscopy engine: C-arm geometry, line integrals against analytic phantoms, needle,
cement, display image and the per-pose cache. Small grids; the whole file runs in seconds."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest

from vp3d.fluoro import (
    CArm,
    Display,
    Fluoroscope,
    line_integrals,
    mask_line_integrals,
    needle_line_integrals,
    radiograph,
)
from vp3d.fluoro import imaging
from vp3d.fluoro.materials import (
    CEMENT_MU_PER_MM,
    CORTICAL_BONE_MU_PER_MM,
    SOFT_TISSUE_MU_PER_MM,
    STEEL_MU_PER_MM,
)
from vp3d.anatomy.volume import Volume

ISO = np.array([2.0, -3.0, 4.0])  # off the patient origin, so no symmetry hides a sign error
POSES = {
    "ap": (0.0, 0.0),
    "lateral": (-90.0, 0.0),
    "left lateral": (90.0, 0.0),
    "oblique": (30.0, 0.0),
    "oblique 45": (-45.0, 0.0),
    "cranial tilt": (0.0, 20.0),
    "oblique caudal": (-25.0, -15.0),
    "steep cranial": (10.0, 60.0),  # beam closest to the long axis: slices across z
}


def small_carm(lao_deg=0.0, cranial_deg=0.0, **kwargs) -> CArm:
    settings = dict(isocenter_mm=ISO, lao_deg=lao_deg, cranial_deg=cranial_deg, rows=96, cols=96, field_mm=110.0)
    settings.update(kwargs)
    return CArm(**settings)


def grid_volume(center_mm, half_mm: float, spacing_mm: float, occupancy) -> Volume:
    """Volume whose mu is ``occupancy(x, y, z)`` on a cube of half-width ``half_mm`` around ``center_mm``."""
    n = int(round(2 * half_mm / spacing_mm)) + 1
    origin = np.asarray(center_mm, float) - half_mm
    axes = [origin[i] + spacing_mm * np.arange(n) for i in range(3)]
    x, y, z = np.meshgrid(*axes, indexing="ij", sparse=True)
    return Volume(occupancy(x, y, z).astype(np.float32), spacing_mm, origin)


def ramp(signed_inside_mm, spacing_mm):
    """Partial-volume fraction of a voxel whose centre is ``signed_inside_mm`` inside a surface."""
    return np.clip(signed_inside_mm / spacing_mm + 0.5, 0.0, 1.0)


def distance(x, y, z, point):
    """Distance (mm) of grid points from ``point``."""
    return np.sqrt((x - point[0]) ** 2 + (y - point[1]) ** 2 + (z - point[2]) ** 2)


def rays(carm: CArm):
    """Source ``(3,)`` and source-to-pixel vectors ``(rows, cols, 3)``."""
    source = carm.source_mm()
    return source, carm.pixel_centers_mm() - source


# ---------------------------------------------------------------------- geometry


@pytest.mark.parametrize("pose", POSES.values(), ids=POSES.keys())
def test_source_detector_distances_and_centre_ray(pose):
    carm = small_carm(*pose, rows=65, cols=65)
    source, detector = carm.source_mm(), carm.detector_center_mm()
    assert np.linalg.norm(source - ISO) == pytest.approx(carm.sod_mm)
    assert np.linalg.norm(detector - source) == pytest.approx(carm.sid_mm)
    assert np.linalg.norm(detector - ISO) == pytest.approx(carm.sid_mm - carm.sod_mm)
    centre_pixel = carm.pixel_centers_mm()[32, 32]
    np.testing.assert_allclose(centre_pixel, detector, atol=1e-9)
    to_iso, to_pixel = ISO - source, centre_pixel - source
    assert np.linalg.norm(np.cross(to_iso, to_pixel)) / (np.linalg.norm(to_iso) * np.linalg.norm(to_pixel)) < 1e-12
    np.testing.assert_allclose(carm.project_mm(ISO), [32.0, 32.0], atol=1e-9)


@pytest.mark.parametrize("pose", POSES.values(), ids=POSES.keys())
def test_pixel_grid_spacing_and_projection_round_trip(pose):
    carm = small_carm(*pose, rows=40, cols=50)
    centres = carm.pixel_centers_mm()
    assert carm.pixel_mm == pytest.approx(110.0 / 40)
    np.testing.assert_allclose(np.linalg.norm(np.diff(centres, axis=1), axis=-1), carm.pixel_mm)
    np.testing.assert_allclose(np.linalg.norm(np.diff(centres, axis=0), axis=-1), carm.pixel_mm)
    np.testing.assert_allclose(np.diff(centres, axis=1) @ carm.beam_direction, 0.0, atol=1e-9)
    rows, cols = np.meshgrid(np.arange(40), np.arange(50), indexing="ij")
    np.testing.assert_allclose(carm.project_mm(centres), np.stack([rows, cols], axis=-1), atol=1e-9)


def test_object_at_isocentre_is_magnified_by_sid_over_sod():
    carm = small_carm(sid_mm=1000.0, sod_mm=625.0)
    ends = carm.project_mm(np.array([ISO + [0, 0, 10.0], ISO - [0, 0, 10.0]]))
    assert abs(ends[1, 0] - ends[0, 0]) * carm.pixel_mm == pytest.approx(20.0 * 1.6)


def test_ap_is_shown_in_radiological_convention():
    """AP: tube under the table (source anterior), patient's right on the viewer's left, head up."""
    carm = CArm.ap(ISO)
    assert carm.source_mm()[1] > ISO[1] and carm.detector_center_mm()[1] < ISO[1]
    centre = (carm.rows - 1) / 2
    right, cranial = carm.project_mm(ISO + [30.0, 0, 0]), carm.project_mm(ISO + [0, 0, 30.0])
    assert right[1] < centre - 50 and abs(right[0] - centre) < 1e-9
    assert cranial[0] < centre - 50 and abs(cranial[1] - centre) < 1e-9


def test_ap_image_of_a_ball_on_the_patients_right_and_cranial_is_upper_left():
    ball = ISO + [25.0, 0.0, 20.0]
    volume = grid_volume(ball, 10.0, 1.0, lambda x, y, z: ramp(6.0 - distance(x, y, z, ball), 1.0))
    image = line_integrals(volume, CArm.ap(ISO, rows=64, cols=64))
    row, col = np.unravel_index(np.argmax(image), image.shape)
    assert row < 28 and col < 28
    assert image[:32, :32].sum() > 0.99 * image.sum()


def test_lateral_preset_shows_anterior_on_the_left_and_head_up():
    carm = CArm.lateral(ISO)
    assert carm.source_mm()[0] < ISO[0]  # source on the patient's left
    centre = (carm.rows - 1) / 2
    anterior, cranial = carm.project_mm(ISO + [0, 30.0, 0]), carm.project_mm(ISO + [0, 0, 30.0])
    assert anterior[1] < centre - 50 and cranial[0] < centre - 50


def test_rotation_and_tilt_move_the_detector_as_named():
    assert CArm(lao_deg=90.0).detector_center_mm()[0] < -300  # detector on the patient's left
    assert CArm(lao_deg=-90.0).detector_center_mm()[0] > 300
    assert CArm(lao_deg=30.0).detector_center_mm()[0] < 0
    assert CArm(cranial_deg=20.0).detector_center_mm()[2] > 100  # detector toward the head
    assert CArm(cranial_deg=-20.0).detector_center_mm()[2] < -100


def test_pose_equality_and_hash_follow_the_parameters():
    assert CArm.ap(ISO) == CArm.ap(ISO.copy()) and hash(CArm.ap(ISO)) == hash(CArm.ap(list(ISO)))
    assert CArm.ap(ISO) != CArm.ap(ISO, rows=256)
    with pytest.raises(ValueError):
        CArm.ap(ISO).isocenter_mm[0] = 1.0  # read-only, so a cached pose cannot change under us


# ---------------------------------------------------------------------- line integrals


def sphere_chords(carm: CArm, center, radius):
    """Analytic chord length (mm) and the ray's distance from the centre, per pixel."""
    source, vectors = rays(carm)
    unit = vectors / np.linalg.norm(vectors, axis=-1, keepdims=True)
    to_center = np.asarray(center) - source
    distance = np.linalg.norm(to_center - (unit @ to_center)[..., None] * unit, axis=-1)
    return 2.0 * np.sqrt(np.clip(radius**2 - distance**2, 0.0, None)), distance


def z_cylinder_chords(carm: CArm, center, radius, half_length):
    """Analytic chord (mm) through a finite cylinder along z, from source to each pixel."""
    source, vectors = rays(carm)
    w = source[:2] - np.asarray(center)[:2]
    d = vectors[..., :2]
    a = np.einsum("...i,...i", d, d)
    b = d @ w
    disc = b * b - a * (w @ w - radius**2)
    root = np.sqrt(np.clip(disc, 0.0, None))
    with np.errstate(divide="ignore", invalid="ignore"):
        t0, t1 = (-b - root) / a, (-b + root) / a
        z0 = (center[2] - half_length - source[2]) / vectors[..., 2]
        z1 = (center[2] + half_length - source[2]) / vectors[..., 2]
    low = np.maximum.reduce([t0, np.minimum(z0, z1), np.zeros_like(t0)])
    high = np.minimum.reduce([t1, np.maximum(z0, z1), np.ones_like(t0)])
    inside = (disc > 0) & (a > 0)
    return np.where(inside, np.clip(high - low, 0.0, None), 0.0) * np.linalg.norm(vectors, axis=-1)


@pytest.fixture(scope="module")
def sphere():
    center, radius, mu = ISO + [3.0, -2.0, 1.5], 18.0, 0.02
    volume = grid_volume(
        ISO, 24.0, 1.0, lambda x, y, z: mu * ramp(radius - distance(x, y, z, center), 1.0)
    )
    return volume, center, radius, mu


@pytest.mark.parametrize("pose", POSES.values(), ids=POSES.keys())
def test_sphere_line_integrals_match_the_analytic_chord(sphere, pose):
    volume, center, radius, mu = sphere
    carm = small_carm(*pose)
    measured = line_integrals(volume, carm)
    assert measured.dtype == np.float32 and measured.shape == (96, 96)
    chord, distance = sphere_chords(carm, center, radius)
    deep = distance <= radius - 1.0
    assert deep.sum() > 1500
    relative = np.abs(measured[deep] - mu * chord[deep]) / (mu * chord[deep])
    assert np.median(relative) <= 0.01
    assert np.abs(measured[distance > radius + 3.0]).max() == 0  # nothing where the ray misses by 3 voxels


@pytest.mark.parametrize("pose", POSES.values(), ids=POSES.keys())
def test_cylinder_line_integrals_match_the_analytic_chord(pose):
    center, radius, half_length, mu, h = ISO + [-4.0, 3.0, -2.0], 12.0, 16.0, 0.05, 0.8

    def occupancy(x, y, z):
        rho = np.sqrt((x - center[0]) ** 2 + (y - center[1]) ** 2)
        return mu * ramp(radius - rho, h) * ramp(half_length - np.abs(z - center[2]), h)

    volume = grid_volume(center, 21.0, h, occupancy)
    carm = small_carm(*pose)
    measured = line_integrals(volume, carm)
    chord = z_cylinder_chords(carm, center, radius, half_length)
    deep = z_cylinder_chords(carm, center, radius - 1.0, half_length - 1.0) > 0
    assert deep.sum() > 1000
    relative = np.abs(measured[deep] - mu * chord[deep]) / (mu * chord[deep])
    assert np.median(relative) <= 0.01


def test_volume_outside_the_field_projects_to_nothing(sphere):
    assert not line_integrals(sphere[0], CArm.ap(ISO + [300.0, 0.0, 0.0], rows=32, cols=32)).any()


def test_volume_must_lie_between_source_and_detector(sphere):
    volume = sphere[0]
    with pytest.raises(ValueError, match="source"):
        line_integrals(volume, small_carm(sid_mm=200.0, sod_mm=10.0))
    with pytest.raises(ValueError, match="detector"):
        line_integrals(volume, small_carm(sid_mm=620.0, sod_mm=610.0))


# ---------------------------------------------------------------------- needle


def test_needle_across_the_beam_has_the_wall_and_rod_chords():
    """A ray through the axis of a tube lying across the beam crosses two walls."""
    carm = small_carm(rows=65, cols=65)  # AP; centre pixel's ray passes through the isocentre
    hub, tip = ISO + [-20.0, 0, 0], ISO + [20.0, 0, 0]
    tube = needle_line_integrals(carm, hub, tip, 3.0, 2.4, STEEL_MU_PER_MM)
    rod = needle_line_integrals(carm, hub, tip, 3.0, 0.0, STEEL_MU_PER_MM)
    assert tube[32, 32] == pytest.approx(STEEL_MU_PER_MM * 2 * 0.3, rel=1e-5)
    assert rod[32, 32] == pytest.approx(STEEL_MU_PER_MM * 3.0, rel=1e-5)
    assert tube.dtype == np.float32 and tube[:20].max() == 0 and tube[45:].max() == 0
    tip_col = carm.project_mm(tip)[1]  # the tip is on the patient's right: image left
    assert rod[32, : int(tip_col) - 1].max() == 0 and rod[32, int(tip_col) + 2] > 0


NEEDLE_HUB, NEEDLE_TIP = ISO + [-5.0, 4.0, -3.0], ISO + [4.0, -3.0, 5.0]


@pytest.fixture(scope="module")
def voxel_needle():
    """Tube of outer 2.4 mm, lumen 1.8 mm, voxelised at 0.125 mm with partial volumes."""
    h, outer, inner = 0.125, 1.2, 0.9
    axis = (NEEDLE_TIP - NEEDLE_HUB) / np.linalg.norm(NEEDLE_TIP - NEEDLE_HUB)
    length = np.linalg.norm(NEEDLE_TIP - NEEDLE_HUB)
    low = np.minimum(NEEDLE_HUB, NEEDLE_TIP) - outer - 0.5
    shape = np.ceil((np.maximum(NEEDLE_HUB, NEEDLE_TIP) + outer + 0.5 - low) / h).astype(int) + 1
    x, y, z = np.meshgrid(*[low[i] + h * np.arange(shape[i]) for i in range(3)], indexing="ij", sparse=True)
    offset = [x - NEEDLE_HUB[0], y - NEEDLE_HUB[1], z - NEEDLE_HUB[2]]
    along = sum(o * a for o, a in zip(offset, axis))
    rho = np.sqrt(np.clip(sum(o * o for o in offset) - along**2, 0.0, None))
    occupancy = (ramp(outer - rho, h) - ramp(inner - rho, h)) * ramp(along, h) * ramp(length - along, h)
    return Volume((STEEL_MU_PER_MM * occupancy).astype(np.float32), h, low)


@pytest.mark.parametrize("pose", [(0.0, 0.0), (-90.0, 0.0), (35.0, 10.0)], ids=["ap", "lateral", "oblique"])
def test_needle_integrals_match_a_voxelised_needle(voxel_needle, pose):
    carm = small_carm(*pose, rows=160, cols=160, field_mm=40.0)
    analytic = needle_line_integrals(carm, NEEDLE_HUB, NEEDLE_TIP, 2.4, 1.8, STEEL_MU_PER_MM)
    voxels = line_integrals(voxel_needle, carm)
    assert analytic.sum() == pytest.approx(voxels.sum(), rel=0.01)
    solid = analytic > 0.25 * analytic.max()
    assert solid.sum() > 300
    assert np.median(np.abs(voxels[solid] - analytic[solid]) / analytic[solid]) < 0.03


# ---------------------------------------------------------------------- cement


def test_mask_integrals_equal_the_projection_of_the_masked_material(sphere):
    volume = sphere[0]
    mask = volume.mu_per_mm > 0.01
    mask[:, :10] = False  # not symmetric, not the whole grid
    carm = small_carm(25.0, -10.0)
    expected = line_integrals(Volume(mask * np.float32(CEMENT_MU_PER_MM), volume.spacing_mm, volume.origin_mm), carm)
    measured = mask_line_integrals(mask, volume, carm, CEMENT_MU_PER_MM)
    # Only the mask's bounding box is projected, so the rays are traced on another grid:
    # equal up to interpolation at the edges.
    assert measured.sum() == pytest.approx(expected.sum(), rel=0.003)
    core = expected > 0.5 * expected.max()
    assert np.median(np.abs(measured[core] - expected[core]) / expected[core]) < 0.005
    assert measured.max() > 3.0
    assert not mask_line_integrals(np.zeros_like(mask), volume, carm, CEMENT_MU_PER_MM).any()


# ---------------------------------------------------------------------- display image


@pytest.fixture(scope="module")
def phantom():
    """Soft-tissue block with a cortical-bone ball on the patient's left of the isocentre."""
    ball = ISO + [-12.0, 0.0, 0.0]

    def occupancy(x, y, z):
        block = ramp(30.0 - np.maximum(np.maximum(np.abs(x - ISO[0]), np.abs(y - ISO[1])), np.abs(z - ISO[2])), 1.0)
        bone = ramp(8.0 - distance(x, y, z, ball), 1.0)
        return SOFT_TISSUE_MU_PER_MM * block + (CORTICAL_BONE_MU_PER_MM - SOFT_TISSUE_MU_PER_MM) * bone

    volume = grid_volume(ISO, 32.0, 1.0, occupancy)
    needle = SimpleNamespace(
        hub_mm=ISO + [25.0, 0.0, -15.0], tip_mm=ISO + [5.0, 0.0, 10.0], outer_diameter_mm=3.0, inner_diameter_mm=0.0
    )
    return volume, ball, needle


def test_radiograph_looks_like_fluoroscopy(phantom):
    volume, ball, needle = phantom
    carm = small_carm(rows=128, cols=128)
    cement = np.zeros(volume.shape, dtype=bool)
    cement[20:26, 30:36, 20:26] = True
    frame = radiograph(volume, carm, needle, cement, noise_seed=3)
    image = frame.image
    assert image.dtype == np.uint8 and image.shape == (128, 128) and frame.field_mask.shape == (128, 128)
    assert image[frame.field_mask].std() > 10  # not blank
    assert image[0, 0] == 0 and image[-1, -1] == 0 and not frame.field_mask[0, 0]  # black outside the field
    row, col = np.round(carm.project_mm(ball)).astype(int)
    bone = np.median(image[row - 2 : row + 3, col - 2 : col + 3])
    tissue = np.median(image[row - 2 : row + 3, 64 + 28 : 64 + 33])  # block only, patient's left
    free = np.median(image[row - 2 : row + 3, 5:10])  # in the field, beside the block
    middle = np.round(carm.project_mm((needle.hub_mm + needle.tip_mm) / 2)).astype(int)
    steel = image[middle[0], middle[1]]
    cement_px = np.round(carm.project_mm(volume.points_mm([22.5, 32.5, 22.5]))).astype(int)
    assert free > tissue + 20 > bone + 20 > steel + 20  # dense things darker
    assert image[cement_px[0], cement_px[1]] < bone - 20
    anatomy = line_integrals(volume, carm)
    instruments = needle_line_integrals(carm, needle.hub_mm, needle.tip_mm, 3.0, 0.0, STEEL_MU_PER_MM)
    instruments += mask_line_integrals(cement, volume, carm, CEMENT_MU_PER_MM)
    np.testing.assert_allclose(frame.line_integrals, anatomy + instruments, atol=1e-5)


def test_quantum_noise_is_seeded(phantom):
    volume = phantom[0]
    carm = small_carm(rows=64, cols=64)
    a, b = radiograph(volume, carm, noise_seed=7).image, radiograph(volume, carm, noise_seed=7).image
    c, clean = radiograph(volume, carm, noise_seed=8).image, radiograph(volume, carm, noise_seed=None).image
    np.testing.assert_array_equal(a, b)
    assert np.any(a != c)
    noisier = radiograph(volume, carm, noise_seed=7, display=Display(photons_per_pixel=50.0)).image
    inside = radiograph(volume, carm).field_mask
    spread = lambda image: np.abs(image.astype(float) - clean)[inside].mean()  # noqa: E731
    assert 0 < spread(a) < spread(noisier)


def test_fluoroscope_reuses_the_anatomy_projection(phantom, monkeypatch):
    volume, _, needle = phantom
    calls = []
    original = imaging.line_integrals
    monkeypatch.setattr(imaging, "line_integrals", lambda *a, **k: calls.append(1) or original(*a, **k))
    scope = Fluoroscope(volume, max_poses=2)
    carm = small_carm(rows=64, cols=64)
    first = scope.radiograph(carm, noise_seed=1)
    moved = scope.radiograph(carm, needle, noise_seed=1)
    assert len(calls) == 1
    assert np.any(first.image != moved.image)
    np.testing.assert_array_equal(moved.image, radiograph(volume, carm, needle, noise_seed=1).image)
    assert len(calls) == 2  # the pure function projects every time
    scope.radiograph(small_carm(rows=64, cols=64, lao_deg=-90.0))
    scope.radiograph(small_carm(rows=64, cols=64, lao_deg=10.0))
    scope.radiograph(carm)  # evicted (two poses kept), so projected again
    assert len(calls) == 5
    scope.volume = volume  # re-assigning the volume drops the cache
    scope.radiograph(carm)
    assert len(calls) == 6
    assert not scope.anatomy_line_integrals(carm).flags.writeable


# ---------------------------------------------------------------------- bad input

BAD_CARMS = {
    "nan sid": dict(sid_mm=float("nan")),
    "negative sid": dict(sid_mm=-1000.0),
    "zero sid": dict(sid_mm=0.0),
    "sod beyond sid": dict(sid_mm=800.0, sod_mm=800.0),
    "zero sod": dict(sod_mm=0.0),
    "rows zero": dict(rows=0),
    "rows float": dict(rows=2.5),
    "rows bool": dict(rows=True),
    "cols huge": dict(cols=5000),
    "field zero": dict(field_mm=0.0),
    "field nan": dict(field_mm=float("nan")),
    "lao out of range": dict(lao_deg=200.0),
    "lao text": dict(lao_deg="ap"),
    "cranial out of range": dict(cranial_deg=95.0),
    "cranial inf": dict(cranial_deg=float("inf")),
    "isocenter 2d": dict(isocenter_mm=[0.0, 0.0]),
    "isocenter nan": dict(isocenter_mm=[0.0, float("nan"), 0.0]),
}


@pytest.mark.parametrize("kwargs", BAD_CARMS.values(), ids=BAD_CARMS.keys())
def test_bad_carm_parameters_raise_with_the_valid_range(kwargs):
    with pytest.raises(ValueError, match="must be"):
        CArm(**kwargs)


BAD_NEEDLES = {
    "lumen as wide as tube": (ISO, ISO + 10, 2.0, 2.0, 1.0),
    "zero diameter": (ISO, ISO + 10, 0.0, 0.0, 1.0),
    "negative lumen": (ISO, ISO + 10, 2.0, -1.0, 1.0),
    "hub at tip": (ISO, ISO, 2.0, 1.0, 1.0),
    "nan hub": ([0.0, float("nan"), 0.0], ISO, 2.0, 1.0, 1.0),
    "negative mu": (ISO, ISO + 10, 2.0, 1.0, -1.0),
}


@pytest.mark.parametrize("args", BAD_NEEDLES.values(), ids=BAD_NEEDLES.keys())
def test_bad_needles_raise(args):
    with pytest.raises(ValueError):
        needle_line_integrals(small_carm(), *args)


def test_bad_masks_displays_and_needles_raise(phantom):
    volume = phantom[0]
    carm = small_carm(rows=32, cols=32)
    with pytest.raises(ValueError, match="shape"):
        mask_line_integrals(np.zeros((3, 3, 3), bool), volume, carm, 0.1)
    with pytest.raises(ValueError, match="boolean"):
        mask_line_integrals(np.zeros(volume.shape, np.uint8), volume, carm, 0.1)
    with pytest.raises(ValueError, match="hub_mm"):
        radiograph(volume, carm, needle=SimpleNamespace(tip_mm=ISO))
    bad_displays = (dict(photons_per_pixel=0.0), dict(vignetting=1.5), dict(low_percentile=90.0, high_percentile=10.0))
    for settings in bad_displays:
        with pytest.raises(ValueError, match="must be"):
            Display(**settings)
    with pytest.raises(ValueError, match="max_poses"):
        Fluoroscope(volume, max_poses=0)
