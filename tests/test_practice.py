"""The student's needle and cement practice: aim, advance, image, inject and score."""

from __future__ import annotations

import numpy as np
import pytest

from vp3d.meshing import is_closed_manifold
from vp3d.needle import plan_trajectory
from vp3d.practice import (
    MAX_CEMENT_ML,
    VERDICTS,
    NeedleAim,
    Practice,
    planned_aim,
    trajectory_for,
)
from vp3d.session import Choices, ProcedureModel

ITEMS = ("pedicle breach", "tip position", "fluoroscopy shots", "cement volume", "cement leaks")


@pytest.fixture(scope="module")
def model():
    return ProcedureModel(Choices(level="L1", grade=2, kind="wedge"), rows=128)


def to_target(p: Practice, step: float = 5.0, extra_mm: float = 0.0) -> list:
    """Advance in ``step`` mm steps to the planned target depth (+ ``extra_mm``); the reports."""
    depth = p.trajectory().target_depth_mm + extra_mm
    reports = []
    while p.depth_mm + step <= depth + 1e-9:
        reports.append(p.advance(step))
    if depth - p.depth_mm >= 0.5:
        reports.append(p.advance(depth - p.depth_mm))
    return reports


def test_planned_aim_reproduces_the_plan(model):
    for traj in model.trajectories:
        aim = planned_aim(model, "L1", traj.side)
        mine = trajectory_for(model.broken_spine, "L1", aim, traj.gauge, target_mm=traj.target_mm)
        angle = np.degrees(np.arccos(np.clip(mine.direction @ traj.direction, -1.0, 1.0)))
        assert angle < 1.0
        off_line = np.linalg.norm(np.cross(traj.target_mm - mine.skin_entry_mm, mine.direction))
        assert off_line < 0.5 and abs(mine.target_depth_mm - traj.target_depth_mm) < 1.0
        assert np.linalg.norm(mine.pedicle_entry_mm - traj.pedicle_entry_mm) < 1.0
    # On a spine (no model) the planner runs; right and left mirror each other at L1.
    right, left = (planned_aim(model.broken_spine, "L1", s) for s in ("right", "left"))
    assert right.medial_deg > 5 and right.caudal_deg > 0
    assert abs(right.medial_deg - left.medial_deg) < 0.5
    assert abs(right.entry_lateral_mm - left.entry_lateral_mm) < 0.5
    # Unipedicular plans aim at the midline: steeper medially.
    uni = planned_aim(model.broken_spine, "L1", "right", bipedicular=False)
    assert uni.medial_deg > right.medial_deg
    assert np.allclose(plan_trajectory(model.broken_spine, "L1", "right").direction,
                       trajectory_for(model.broken_spine, "L1", right, 11).direction, atol=1e-6)


def test_planned_path_reaches_the_target_safely(model):
    p = Practice(model)
    reports = to_target(p)
    assert all(r.breach is None and not r.medial_line_crossed_early for r in reports)
    last = reports[-1]
    assert last.tip_in_body and last.tip_to_target_mm < 2.0
    assert p.tip_tissue() in ("trabecular bone", "fracture cleft")
    assert p.tip_depth_fraction() > 2 / 3  # anterior third
    score = p.score()
    assert score.item("pedicle breach").verdict == "good"
    assert score.item("tip position").verdict == "good"


@pytest.mark.parametrize("extra_deg", [12.0, 15.0])
def test_more_medial_at_l1_breaches_the_medial_wall(model, extra_deg):
    p = Practice(model)
    p.set_aim(medial_deg=p.aim.medial_deg + extra_deg)
    reports = to_target(p)
    assert any(r.breach == "medial" or r.medial_line_crossed_early for r in reports)
    assert all(r.breach != "lateral" for r in reports)
    item = p.score().item("pedicle breach")
    assert item.verdict == "needs work" and "medial" in item.value


def test_strong_lateral_aim_breaches_laterally_or_misses(model):
    p = Practice(model)
    p.set_aim(medial_deg=p.aim.medial_deg - 15.0)
    reports = to_target(p)
    assert any(r.breach == "lateral" for r in reports) or not reports[-1].tip_in_body
    assert p.score().item("pedicle breach").verdict != "good"


def test_aim_is_locked_once_in_bone(model):
    p = Practice(model)
    bone = p.bone_entry_depth_mm()
    assert 30 < bone < p.trajectory().target_depth_mm
    p.advance(5.0)
    p.set_aim(caudal_deg=p.aim.caudal_deg + 1.0)  # in soft tissue: allowed
    with pytest.raises(ValueError, match="depth 0"):
        p.set_aim(entry_lateral_mm=p.aim.entry_lateral_mm + 5.0)  # skin entry: only outside
    while p.depth_mm <= bone:
        p.advance(10.0)
    with pytest.raises(ValueError, match="withdraw the needle out of the bone"):
        p.set_aim(medial_deg=p.aim.medial_deg + 2.0)
    with pytest.raises(ValueError, match="withdraw the needle fully"):
        p.set_side("left")
    while p.depth_mm > bone:
        p.withdraw(min(10.0, p.depth_mm))
    p.set_aim(medial_deg=p.aim.medial_deg + 2.0)  # out of the bone again: allowed
    while p.depth_mm > 0:
        p.withdraw(min(10.0, p.depth_mm))
    aim = p.set_side("left")
    assert aim.side == "left" and p.aim == planned_aim(model, "L1", "left")


def test_bad_inputs_name_the_field(model):
    good = dict(side="right", entry_lateral_mm=40.0, entry_cranial_mm=10.0, medial_deg=15.0, caudal_deg=10.0)
    for field in ("entry_lateral_mm", "entry_cranial_mm", "medial_deg", "caudal_deg"):
        for bad in (float("nan"), 1e9, "12", True, None, float("inf")):
            with pytest.raises(ValueError, match=field):
                NeedleAim(**{**good, field: bad})
    with pytest.raises(ValueError, match=r"entry_lateral_mm must be a finite number from 0 to 120 mm, got -1"):
        NeedleAim(**{**good, "entry_lateral_mm": -1})
    with pytest.raises(ValueError, match="side must be 'right' or 'left'"):
        NeedleAim(**{**good, "side": "up"})
    with pytest.raises(ValueError, match="side must be"):
        Practice(model, side="middle")
    p = Practice(model)
    for bad in (float("nan"), 1e9, 20.0, 0.1, "5", -3.0):
        with pytest.raises(ValueError, match="step_mm"):
            p.advance(bad)
    with pytest.raises(ValueError, match="withdraw at most 0"):
        p.withdraw(5.0)
    with pytest.raises(ValueError, match="medial_deg"):
        p.set_aim(medial_deg=float("nan"))
    with pytest.raises(ValueError, match="set_side"):
        p.set_aim(side="left")
    with pytest.raises(ValueError, match="set_aim takes"):
        p.set_aim(depth=3)
    with pytest.raises(ValueError, match="view must be 'ap' or 'lateral'"):
        p.rotate("oblique", lao_deg=10)
    with pytest.raises(ValueError, match="view must be"):
        p.images(["pa"])
    with pytest.raises(ValueError, match=r"lao_deg must be a finite number from -45 to 45"):
        p.rotate("ap", lao_deg=90)
    with pytest.raises(ValueError, match=r"lao_deg .*-135 to -45"):
        p.rotate("lateral", lao_deg=0)
    with pytest.raises(ValueError, match="cranial_deg"):
        p.rotate("ap", cranial_deg=float("nan"))
    with pytest.raises(ValueError, match="ml"):
        p.inject(float("nan"))
    with pytest.raises(ValueError, match="ml"):
        p.inject("1")
    assert p.depth_mm == 0 and p.shots == 0 and p.cement_ml == 0  # nothing changed


def test_shots_count_new_images_only(model):
    p = Practice(model)
    first = p.images()
    assert set(first) == {"ap", "lateral"} and p.shots == 2
    assert first["ap"].dtype == np.uint8 and first["ap"].shape == (128, 128)
    again = p.images()
    assert p.shots == 2 and again["ap"] is first["ap"]
    p.rotate("ap", lao_deg=20.0, cranial_deg=10.0)
    turned = p.images()
    assert p.shots == 3  # only the turned view is new
    assert turned["lateral"] is first["lateral"]
    assert np.abs(turned["ap"].astype(float) - first["ap"].astype(float)).mean() > 2.0
    p.rotate("ap", lao_deg=20.0)  # no change: no new image
    p.images("ap")
    assert p.shots == 3
    p.advance(5.0)
    p.images("lateral")
    assert p.shots == 4
    p.images()
    assert p.shots == 5
    assert model.views["ap"].lao_deg == 0.0 and p.carm("ap").lao_deg == 20.0  # the model is untouched
    other = Practice(model)
    assert other.carm("ap").lao_deg == 0.0 and other.depth_mm == 0.0 and other.shots == 0
    p.reset()
    assert p.shots == 0 and p.carm("ap").lao_deg == 0.0 and p.depth_mm == 0.0


def test_cement_goes_in_only_from_the_body_and_shows(model):
    p = Practice(model)
    with pytest.raises(ValueError, match="not in the vertebral body"):
        p.inject()
    while p.depth_mm < p.bone_entry_depth_mm() + 5:
        p.advance(10.0)
    with pytest.raises(ValueError, match="advance it into the body"):
        p.inject()
    to_target(p)
    before = p.images()["lateral"].astype(float)
    with pytest.raises(ValueError, match="whole number of 0.5 mL steps"):
        p.inject(0.7)
    with pytest.raises(ValueError, match="ml must be"):
        p.inject(3.0)
    levels = []
    for _ in range(6):
        leaks = p.inject(0.5)
        levels.append(p.cement_ml)
        expected = p.cement_result.leaks_at(p.cement_ml)  # 3 mL is well inside the 8 mL simulated
        assert [(lk.kind, lk.volume_ml) for lk in leaks] == [(lk.kind, lk.volume_ml) for lk in expected]
    assert levels == [0.5, 1.0, 1.5, 2.0, 2.5, 3.0]
    after = p.images()["lateral"].astype(float)
    assert after.mean() < before.mean() - 0.3  # cement darkens the view
    assert (after < before - 40).sum() > 30  # a dark cloud, not noise
    mesh = p.cement_mesh()
    assert mesh.n_points > 0 and is_closed_manifold(mesh)
    with pytest.raises(ValueError, match="cement is in"):
        p.advance(1.0)
    with pytest.raises(ValueError, match="cement is in"):
        p.set_aim(medial_deg=p.aim.medial_deg + 1)
    while p.cement_ml < MAX_CEMENT_ML:
        p.inject(min(2.0, MAX_CEMENT_ML - p.cement_ml))
    assert p.cement_ml == MAX_CEMENT_ML
    assert p.leaks(), "overfilling the body must leak"
    with pytest.raises(ValueError, match="at most 8 mL"):
        p.inject(0.5)
    item = p.score().item("cement leaks")
    assert item.verdict in ("acceptable", "needs work") and "Yeom type" in item.value


def test_score_items_change_between_a_good_and_a_bad_run(model):
    good = Practice(model)
    to_target(good, step=10.0)
    good.images()
    for _ in range(3):
        good.inject(1.0)
        good.images("lateral")
    bad = Practice(model)
    bad.set_aim(medial_deg=bad.aim.medial_deg + 14.0)
    for _ in range(25):
        bad.advance(4.0)
        bad.images()
    s_good, s_bad = good.score(), bad.score()
    for score in (s_good, s_bad):
        assert tuple(i.name for i in score.items) == ITEMS
        for i in score.items:
            assert i.verdict in VERDICTS and i.reference and i.good and i.value
        assert len(score.rows()) == len(ITEMS)
    assert "Belkoff" in s_good.item("cement volume").reference
    assert "Yeom" in s_good.item("cement leaks").reference
    assert "teaching target" in s_good.item("fluoroscopy shots").reference.lower()
    assert s_good.item("pedicle breach").verdict == "good" != s_bad.item("pedicle breach").verdict
    assert s_good.item("tip position").verdict == "good" != s_bad.item("tip position").verdict
    assert s_good.item("cement volume").verdict == "good"
    assert s_bad.item("cement volume").verdict == "needs work"
    assert s_good.item("fluoroscopy shots").verdict == "good" != s_bad.item("fluoroscopy shots").verdict
    assert s_bad.verdict == "needs work"
    with pytest.raises(ValueError, match="no score item"):
        s_good.item("style")
