"""The student's needle and cement practice: aim, advance, image, inject and score."""

from __future__ import annotations

import numpy as np
import pytest

from vp3d.geometry.contour import is_closed_manifold
from vp3d.needle.path import plan_trajectory
from vp3d.practice.aim import planned_aim, trajectory_for
from vp3d.practice.record import LEAK_VISIBLE_ML
from vp3d.practice.run import MAX_CEMENT_ML, Practice
from vp3d.practice.score import SHOTS_GOOD, VERDICTS
from vp3d.procedure.case import Choices, ProcedureModel

ITEMS = ("pedicle breach", "tip position", "fluoroscopy shots", "cement volume", "cement leaks")


@pytest.fixture(scope="module")
def model():
    return ProcedureModel(Choices(level="L1", grade=2, kind="wedge"), rows=128)


@pytest.fixture(scope="module")
def thoracic_model():
    return ProcedureModel(Choices(level="T8", grade=2, kind="wedge"), rows=128)


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


def test_left_planned_path_reaches_the_target_safely(model):
    p = Practice(model, "left")
    assert p.side == "left" and p.aim == planned_aim(model, "L1", "left")
    reports = to_target(p)
    assert all(r.breach is None and not r.medial_line_crossed_early for r in reports)
    assert reports[-1].tip_in_body and reports[-1].tip_to_target_mm < 2.0
    assert p.trajectory().direction[0] > 0  # from the left (-x) towards the midline
    assert not p.anterior_breach() and p.tip_depth_fraction() > 2 / 3
    score = p.score()
    assert score.item("pedicle breach").verdict == "good"
    assert score.item("tip position").verdict == "good"


@pytest.mark.parametrize("extra_deg, wall", [(-15.0, "superior"), (15.0, "inferior")])
def test_strong_cranial_or_caudal_aim_breaches_superior_or_inferior(model, extra_deg, wall):
    p = Practice(model)
    p.set_aim(caudal_deg=p.aim.caudal_deg + extra_deg)  # negative: the tip rises as it advances
    reports = to_target(p)
    assert {r.breach for r in reports} - {None} == {wall}
    item = p.score().item("pedicle breach")
    assert item.verdict == "needs work" and f"{wall} breach" in item.value
    assert "foraminal" in item.advice


def test_advancing_past_the_target_breaches_the_anterior_wall(model):
    p = Practice(model)
    to_target(p)
    assert not p.anterior_breach() and p.safety().tip_in_body
    for _ in range(2):
        report = p.advance(10.0)  # 20 mm past the target, out through the front of the body
    assert p.anterior_breach() and not report.tip_in_body
    assert report.breach is None  # the pedicle walls are fine: only the front wall is breached
    score = p.score()
    item = score.item("pedicle breach")
    assert item.verdict == "needs work" and "anterior wall" in item.value and "front wall" in item.advice
    assert "past the anterior wall" in score.item("tip position").value
    p.withdraw(10.0)
    p.withdraw(10.0)  # back at the target: in the body again, but the breach is remembered
    assert not p.anterior_breach() and p.safety().tip_in_body
    assert p.score().item("pedicle breach").verdict == "needs work"
    p.reset()
    assert p.score().item("pedicle breach").verdict == "good"


@pytest.mark.parametrize("thoracic", [True, False])
def test_an_unplanned_lateral_breach_is_a_breach_at_every_level(model, thoracic_model, thoracic):
    """An unplanned lateral breach at T8 is a breach (the pleura and the segmental artery lie
    there); at L1 too (the exiting root and segmental vessels)."""
    p = Practice(thoracic_model if thoracic else model)
    assert p.route == "transpedicular"
    p.set_aim(medial_deg=p.aim.medial_deg - 8.0)
    reports = to_target(p)
    assert {r.breach for r in reports} - {None} == {"lateral"}
    assert not any(r.medial_line_crossed_early for r in reports) and not p.anterior_breach()
    item = p.score().item("pedicle breach")
    assert "lateral breach" in item.value and "anterior" not in item.value
    assert item.verdict == "needs work"
    assert "without a planned parapedicular route" in item.advice
    if thoracic:
        assert "pneumothorax" in item.advice and "segmental artery" in item.advice and "T8" in item.advice
    else:
        assert "nerve root" in item.advice and "lumbar spine" in item.advice


def test_a_planned_parapedicular_route_is_accepted_at_thoracic_levels_only(model, thoracic_model):
    p = Practice(thoracic_model)
    transpedicular = p.aim
    assert p.set_route("parapedicular") == "parapedicular"
    # The aim moves to the planned path beside the pedicle: further out, steeper.
    assert p.aim.entry_lateral_mm > transpedicular.entry_lateral_mm + 5.0
    assert p.aim.medial_deg > transpedicular.medial_deg + 5.0
    reports = to_target(p)
    assert {r.breach for r in reports} - {None} == {"lateral"}
    item = p.score().item("pedicle breach")
    assert item.verdict == "good" and "as planned" in item.value and "parapedicular" in item.good
    with pytest.raises(ValueError, match="plan the route before the needle goes in"):
        p.set_route("transpedicular")
    # A medial breach is a breach whatever the route.
    q = Practice(thoracic_model)
    q.set_route("parapedicular")
    q.set_aim(entry_lateral_mm=transpedicular.entry_lateral_mm, entry_cranial_mm=transpedicular.entry_cranial_mm,
              medial_deg=transpedicular.medial_deg + 14.0, caudal_deg=transpedicular.caudal_deg)
    to_target(q)
    medial = q.score().item("pedicle breach")
    assert medial.value.startswith("medial breach") and medial.verdict == "needs work"
    # Not in the lumbar spine; an unknown route is named.
    lumbar = Practice(model)
    with pytest.raises(ValueError, match=r"only at thoracic levels \(T1-T12\).*at L1 keep to the pedicle"):
        lumbar.set_route("parapedicular")
    with pytest.raises(ValueError, match="route must be one of transpedicular, parapedicular"):
        lumbar.set_route("costotransverse")
    assert lumbar.route == "transpedicular"


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
    with pytest.raises(ValueError, match="the aim can only change entry_lateral_mm"):
        p.set_aim(depth=3)
    with pytest.raises(ValueError, match="view must be 'ap' or 'lateral'"):
        p.rotate("oblique", lao_deg=10)
    with pytest.raises(ValueError, match="view must be"):
        p.images(["pa"])
    with pytest.raises(ValueError, match=r"AP rotation \(lao_deg\) must be a number between -45 and 45 degrees, "
                                         r"got 90$"):
        p.rotate("ap", lao_deg=90)
    # The page counts the lateral rotation from the true lateral (lao_deg + 90), and so does the message.
    with pytest.raises(ValueError, match=r"lateral rotation \(lao_deg\) must be a number between -45 and 45 "
                                         r"degrees from the true lateral, got 60$"):
        p.rotate("lateral", lao_deg=-30)
    with pytest.raises(ValueError, match=r"from the true lateral, got 90$"):
        p.rotate("lateral", lao_deg=0)
    p.rotate("lateral", lao_deg=-135)  # 45 from the true lateral: allowed
    p.rotate("lateral", lao_deg=-90)
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
    with pytest.raises(ValueError, match="^the tip is in skin, not in the vertebral body of L1"):
        p.inject()
    while p.depth_mm < p.bone_entry_depth_mm() + 5:
        p.advance(10.0)
    with pytest.raises(ValueError, match="advance it into the body"):
        p.inject()
    to_target(p)
    before = p.images()["lateral"].astype(float)
    with pytest.raises(ValueError, match="whole number of 0.5 mL steps"):
        p.inject(0.7)
    with pytest.raises(ValueError, match=r"\(ml\) must be a number between 0.5 and 2 mL, got 3$"):
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
    with pytest.raises(ValueError, match="cement is in") as locked:
        p.advance(1.0)
    assert "Start over to practise again" in str(locked.value)
    for internal in ("reset(", "refused", "set_aim", "()"):  # plain words, no names from the code
        assert internal not in str(locked.value)
    with pytest.raises(ValueError, match="cement is in.*change the aim"):
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


def test_a_careful_run_with_both_views_after_every_move_is_good_on_shots(model):
    p = Practice(model)
    p.images()
    bone, target = p.bone_entry_depth_mm(), p.trajectory().target_depth_mm
    while p.depth_mm < target - 1e-9:  # 10 mm through soft tissue, 7.5 mm in bone, AP + lateral each
        step = 10.0 if p.depth_mm + 10.0 <= bone else 7.5
        p.advance(min(step, target - p.depth_mm))
        p.images()
    for _ in range(6):
        p.inject(0.5)
        p.images("lateral")
    assert 30 < p.shots <= SHOTS_GOOD
    item = p.score().item("fluoroscopy shots")
    assert item.verdict == "good" and "teaching target" in item.reference.lower()


def _inject_until_a_vein_fills(p: Practice) -> float:
    """Inject 0.5 mL steps until cement shows in a vein; the total then."""
    while not p.venous_leaks():
        p.inject(0.5)
    return p.cement_ml


def test_a_venous_leak_of_any_size_asks_to_stop(model):
    """Cement in the basivertebral vein (Yeom type B): any visible amount means stop or pause;
    stopping there is acceptable, injecting on is not."""
    p = Practice(model)
    to_target(p, step=10.0, extra_mm=-16.0)  # middle of the body, near the basivertebral vein
    assert p.safety().tip_in_body
    first = _inject_until_a_vein_fills(p)
    venous = p.venous_leaks()
    assert venous and all(lk.volume_ml >= LEAK_VISIBLE_ML for lk in venous)
    assert {lk.yeom_type for lk in venous} <= {"B", "S"}
    item = p.score().item("cement leaks")
    assert item.verdict == "acceptable", item
    assert "you stopped, which is right" in item.advice and f"at {first:g} mL" in item.advice
    assert "stop or pause" in item.good and "any size" in item.good
    assert "Stop or pause" in item.reference and "CIRSE" in item.reference
    p.inject(0.5)  # one more step after the vein filled
    item = p.score().item("cement leaks")
    assert item.verdict == "needs work"
    assert "the injection went on" in item.advice and "stop or pause as soon as a vein fills" in item.advice
    assert "Yeom type B" in item.value or "Yeom type S" in item.value


def test_stopping_at_a_leak_is_acceptable_below_two_ml(model):
    p = Practice(model)
    to_target(p, step=10.0)
    p.inject(0.5)
    assert not p.leaks() and p.score().item("cement volume").verdict == "needs work"
    while not p.leaks():
        p.inject(0.5)
    first = p.cement_ml
    assert first < 1.5  # leaks at the planned target first show at 1 mL
    for _ in range(2):  # stopped at the leak, then one more 0.5 mL step while checking
        item = p.score().item("cement volume")
        assert item.verdict == "acceptable" and "stopping at a leak is correct" in item.advice
        assert f"first seen at {first:g} mL" in item.value
        p.inject(0.5)
    # The first leak shows at 1 mL, so two steps past it is 2 mL: strength restored, good.
    assert first == 1.0 and p.cement_ml == 2.0
    assert p.score().item("cement volume").verdict == "good"
    # A leak from the first 0.5 mL (unipedicular, tip in the middle of the body): 1.5 mL is two
    # steps past it, so the volume needs work and the advice says when to stop.
    q = Practice(model, bipedicular=False)
    to_target(q, step=10.0, extra_mm=-16.0)
    q.inject(0.5)
    assert q.leaks()
    q.inject(1.0)
    item = q.score().item("cement volume")
    assert item.verdict == "needs work" and "a leak appeared at 0.5 mL" in item.advice


def _walk(p: Practice, step_mm: float, to_mm: float) -> list[tuple[float, str, str]]:
    """Advance in ``step_mm`` steps to ``to_mm``: (depth, tissue at the tip, alert) after each."""
    from vp3d.practice.readout import readout

    out = []
    while p.depth_mm + step_mm <= to_mm + 1e-9:
        report = p.advance(step_mm)
        out.append((p.depth_mm, p.tip_tissue(), readout(p, report)[1]))
    return out


def test_the_needle_passes_skin_fat_muscle_then_bone(model):
    p = Practice(model)
    seen = []
    for _, tissue, _ in _walk(p, 1.0, p.trajectory().target_depth_mm):
        if not seen or seen[-1] != tissue:
            seen.append(tissue)
    assert seen[:4] == ["skin", "fat", "muscle", "cortical bone"], seen
    assert seen[-1] in ("trabecular bone", "fracture cleft")


def test_a_lateral_thoracic_breach_into_the_lung_is_reported(thoracic_model):
    p = Practice(thoracic_model)
    p.set_aim(medial_deg=p.aim.medial_deg - 25.0)
    walk = _walk(p, 5.0, 110.0)
    lung = [(d, a) for d, tissue, a in walk if tissue == "lung, through the pleura"]
    assert lung, walk
    assert all("pleura" in a and "pneumothorax" in a for _, a in lung)


def test_every_structure_the_tip_enters_raises_its_own_alert(thoracic_model):
    """Aimed 60 degrees medially and pushed 10 mm at a time to 140 mm: the medial pedicle wall,
    then the far pedicle, then the lung, each with its own words; none is silent."""
    p = Practice(thoracic_model)
    p.set_aim(medial_deg=60.0)
    walk = _walk(p, 10.0, 140.0)
    alerts = [a for _, _, a in walk]
    assert any(a.startswith("Medial pedicle wall breached") or a.startswith("On AP the tip is medial")
               for a in alerts)
    assert any("into the lung" in a for a in alerts)
    first = next(i for i, a in enumerate(alerts) if a)
    assert all(alerts[first:]), walk  # once in trouble, every further step says where the tip is


def test_after_a_steep_re_aim_depth_and_distance_say_one_thing(model):
    """Re-aimed 40 degrees more medially and pushed 140 mm, the page read "Depth 140 mm of 47 mm
    to the target" beside "137 mm from the target"; now the depth is from the skin entry, the
    line's miss is named, and the one distance to the target is the tip's straight line to it."""
    from vp3d.practice.readout import readout, target_distances

    p = Practice(model)
    p.set_aim(medial_deg=p.aim.medial_deg + 40.0)
    while p.depth_mm < 140.0:
        report = p.advance(10.0)
    texts = [line["text"] for line in readout(p, report)[0]]
    t = target_distances(p.trajectory(), p.depth_mm)
    assert not t.on_line and t.miss_mm > 10
    assert texts[0] == "Depth 140 mm from the skin entry"
    assert texts[1] == f"This line misses the target by {t.miss_mm:.0f} mm: re-aim to reach it"
    assert abs(t.to_target_mm - report.tip_to_target_mm) < 1e-6  # the score's distance too
    assert sum("mm from the target" in text for text in texts) == 1
    assert f"{report.tip_to_target_mm:.1f} mm from the target" in texts[2]
    assert not any("Tip in outside" in text or " of " in text for text in texts), texts
