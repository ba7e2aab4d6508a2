"""Balloon kyphoplasty: height restored, a cavity in mesh, volume and X-ray."""

from __future__ import annotations

import numpy as np
import pytest

from vp3d.anatomy import build_spine
from vp3d.fluoro import CArm, line_integrals
from vp3d.pathology.fracture import Fracture, fracture_spine
from vp3d.pathology.kyphoplasty import (
    DEFLATION_LOSS_OF_HEIGHT,
    MAX_BALLOON_ML,
    RESTORED_FRACTION,
    Balloon,
    cavity_mask,
    inflated_fraction,
    lift_fraction,
    reduce_fracture,
    settled_spine,
    with_cavity,
)
from vp3d.geometry.contour import is_closed_manifold
from vp3d.needle.path import Needle, plan_trajectory
from vp3d.anatomy.volume import Label


@pytest.fixture(scope="module")
def spine():
    return build_spine("T12", "L2")


def _balloon(spine, fill_ml, side="right"):
    traj = plan_trajectory(spine, "L1", side)
    tip = Needle(traj, traj.target_depth_mm).tip_mm
    return Balloon(tip, traj.direction, fill_ml)


def _anterior_height(part):
    m = part.morphometry
    y = m.endplate_depth_mm / 2 - 3.0
    pts = np.array([[0, y, z] for z in np.arange(-20, 20, 0.05)])
    inside = part.distance_patient(pts @ part.transform[:3, :3].T + part.transform[:3, 3]) < 0
    z = pts[inside, 2]
    return z.max() - z.min()


def test_inflation_lifts_and_deflation_gives_part_back(spine):
    """Full balloons hold up more than is kept; emptied, the front sags by Rotter's 11.7 % of the
    pre-operative height and Lieberman's 47 % of the lost height remains."""
    frac = Fracture("L1", 3, "wedge")
    intact = _anterior_height(spine.vertebrae["L1"])
    broken = _anterior_height(fracture_spine(spine, frac, 1.0).vertebrae["L1"])
    balloons = [_balloon(spine, MAX_BALLOON_ML), _balloon(spine, MAX_BALLOON_ML, "left")]
    lifted = _anterior_height(reduce_fracture(spine, frac, 1.0, balloons).vertebrae["L1"])
    settled = _anterior_height(settled_spine(spine, frac).vertebrae["L1"])
    lost = intact - broken
    assert abs((lifted - broken) / lost - inflated_fraction(frac.height_loss)) < 0.06
    assert abs((settled - broken) / lost - RESTORED_FRACTION) < 0.06
    assert abs((lifted - settled) / broken - DEFLATION_LOSS_OF_HEIGHT) < 0.03, (lifted - settled) / broken
    half = reduce_fracture(spine, frac, 1.0, [_balloon(spine, MAX_BALLOON_ML / 2)]).vertebrae["L1"]
    assert broken < _anterior_height(half) < lifted


def test_lift_fraction_follows_the_story():
    """Inflating (restore and inflation together) lifts to the inflated share; emptying the
    balloons (restore 1, inflation to 0) settles at the kept share, never above all the loss."""
    for loss in (0.225, 0.33, 0.5):
        full = inflated_fraction(loss)
        assert RESTORED_FRACTION < full <= 1.0
        assert full == pytest.approx(RESTORED_FRACTION + DEFLATION_LOSS_OF_HEIGHT * (1 - loss) / loss)
        assert lift_fraction(loss, 0.0, 0.0) == 0.0
        assert lift_fraction(loss, 1.0, 1.0) == pytest.approx(full)
        assert lift_fraction(loss, 1.0, 0.0) == pytest.approx(RESTORED_FRACTION)
        steps = [lift_fraction(loss, r, r) for r in np.linspace(0, 1, 11)]
        assert np.all(np.diff(steps) > 0)
    assert inflated_fraction(0.05) == 1.0  # a small loss: the balloons can lift all of it
    for bad in (0.0, 1.0, float("nan"), -0.2):
        with pytest.raises(ValueError, match="height_loss must be a fraction"):
            inflated_fraction(bad)
    with pytest.raises(ValueError, match="inflation must be between 0 and 1"):
        lift_fraction(0.3, 1.0, 1.5)


def test_cavity_matches_balloon_and_shows_on_xray(spine):
    vol = spine.density_volume(spacing_mm=0.5)
    b = _balloon(spine, 3.0)
    mask = cavity_mask(vol, [b])
    ml = mask.sum() * vol.voxel_volume_mm3 / 1000
    assert 0.8 * 3.0 < ml <= 3.0 * 1.05, ml  # the balloon lies (almost) all in trabecular bone
    assert np.all(np.isin(vol.labels[mask], [Label.TRABECULAR_BONE, Label.CLEFT]))
    inflated = with_cavity(vol, [b], contrast=True)
    after = with_cavity(vol, [b], contrast=False)
    assert np.all(inflated.mu_per_mm[mask] > vol.mu_per_mm[mask])
    assert np.all(after.mu_per_mm[mask] < vol.mu_per_mm[mask])
    carm = CArm.ap(np.zeros(3), rows=128, cols=128)
    diff = line_integrals(inflated, carm) - line_integrals(vol, carm)
    assert diff.max() > 0.3  # contrast-filled balloon is clearly visible
    assert is_closed_manifold(b.mesh().triangulate())


def test_bad_balloon_fill(spine):
    for bad in (-1.0, MAX_BALLOON_ML + 0.5, float("nan")):
        with pytest.raises(ValueError, match="fill_ml must be between 0 and"):
            _balloon(spine, bad)
