"""Needle planning and safety checks on the morphometric spine."""

from __future__ import annotations

import numpy as np
import pytest

from vp3d.anatomy import build_spine
from vp3d.needle.path import GAUGES, Needle, assess, choose_gauge, plan_trajectory, steer

from tests.volume_regions import label_at


@pytest.fixture(scope="module")
def spine():
    return build_spine("T5", "L5", spacing_mm=1.0)


LEVELS_T5_L5 = ["T5", "T6", "T7", "T8", "T9", "T10", "T11", "T12", "L1", "L2", "L3", "L4", "L5"]


@pytest.mark.parametrize("level", LEVELS_T5_L5)
def test_planned_paths_do_not_breach(spine, level):
    for side in ("right", "left"):
        for bipedicular in (True, False):
            traj = plan_trajectory(spine, level, side, bipedicular=bipedicular)
            needle = Needle(traj, traj.target_depth_mm)
            rep = assess(spine, needle)
            assert rep.breach is None and rep.wall_clearance_mm > 0, (level, side, bipedicular, rep)
            assert not rep.medial_line_crossed_early
            assert rep.tip_in_body and rep.tip_to_target_mm < 1e-6
            # Every stage along the way is safe too.
            for depth in np.linspace(traj.pedicle_entry_depth_mm, traj.target_depth_mm, 12):
                assert assess(spine, Needle(traj, depth)).safe, (level, side, depth)


@pytest.mark.parametrize("level", LEVELS_T5_L5)
def test_target_in_anterior_third_and_entry_upper_outer(spine, level):
    v = spine.vertebrae[level]
    m = v.morphometry
    inv = np.linalg.inv(v.transform)
    traj = plan_trajectory(spine, level, "right")
    tip = inv[:3, :3] @ traj.target_mm + inv[:3, 3]
    assert tip[1] > m.endplate_depth_mm / 2 - m.endplate_depth_mm / 3  # anterior third
    assert abs(tip[0]) < m.endplate_width_mm / 4  # near the midline
    # Docking point: lateral and cranial of the pedicle centre (upper-outer on AP).
    entry = inv[:3, :3] @ traj.pedicle_entry_mm + inv[:3, 3]
    isthmus = v.landmarks.pedicle_isthmus_mm[0]
    assert entry[0] > isthmus[0] and entry[2] >= isthmus[2] - 0.5
    # The skin entry is behind the bone, on the skin.
    assert traj.skin_entry_mm[1] < traj.pedicle_entry_mm[1] - 20


def test_twelve_degrees_more_medial_breaches_medial_wall_at_l1(spine):
    traj = plan_trajectory(spine, "L1", "right")
    bad = steer(spine, traj, medial_deg=12.0)
    reports = [assess(spine, Needle(bad, d)) for d in
               np.linspace(bad.pedicle_entry_depth_mm, bad.target_depth_mm, 20)]
    assert any(r.breach == "medial" for r in reports)
    assert all(r.breach != "lateral" for r in reports)
    lateral = steer(spine, traj, medial_deg=-12.0)
    reps = [assess(spine, Needle(lateral, d)) for d in
            np.linspace(lateral.pedicle_entry_depth_mm, lateral.target_depth_mm, 20)]
    assert any(r.breach == "lateral" for r in reps)


def test_gauge_choice_follows_pedicle_width():
    assert choose_gauge(8.7) == 11 and choose_gauge(5.0) == 13 and choose_gauge(4.5) == 15
    assert GAUGES[11][0] > GAUGES[13][0] > GAUGES[15][0]


def test_bad_needle_input(spine):
    traj = plan_trajectory(spine, "L1")
    with pytest.raises(ValueError, match="depth_mm must be between 0 and"):
        Needle(traj, -1.0)
    with pytest.raises(ValueError, match="depth_mm"):
        Needle(traj, float("nan"))
    with pytest.raises(ValueError, match="side must be"):
        plan_trajectory(spine, "L1", "up")
    with pytest.raises(ValueError, match="level must be one of T1\u2013L5"):
        plan_trajectory(spine, "L9")
    with pytest.raises(ValueError, match="between -45 and 45"):
        steer(spine, traj, medial_deg=1e9)
    with pytest.raises(ValueError, match="gauge must be one of"):
        plan_trajectory(spine, "L1", gauge=12)


@pytest.mark.parametrize("level", ["T5", "T8", "T11"])
def test_parapedicular_path_passes_between_pedicle_and_rib(level):
    """The planned thoracic parapedicular path meets skin, fat and muscle, never a rib, the
    lung or the canal, runs beside the pedicle's lateral wall and ends in the body's target."""
    from vp3d.needle.path import plan_parapedicular
    from vp3d.anatomy.volume import Label

    spine = build_spine(level, level)
    vol = spine.density_volume(spacing_mm=1.0)
    for side in ("right", "left"):
        classic = plan_trajectory(spine, level, side)
        para = plan_parapedicular(spine, level, side)
        assert np.allclose(para.target_mm, classic.target_mm)
        medial = [np.degrees(np.arctan2(abs(t.direction[0]), t.direction[1])) for t in (classic, para)]
        assert medial[1] > medial[0] + 5.0  # steeper, from further out
        assert abs(para.skin_entry_mm[0]) > abs(classic.skin_entry_mm[0]) + 5.0
        s = np.arange(0.0, para.target_depth_mm, 0.5)
        pts = para.skin_entry_mm[None, :] + s[:, None] * para.direction[None, :]
        labels = [label_at(vol, p) for p in pts]
        assert not {Label.TRUNK_BONE, Label.LUNG, Label.CANAL} & set(labels), (side, set(labels))
        inside = labels[next(i for i, lab in enumerate(labels) if lab != Label.AIR):]
        assert Label.AIR not in inside  # no air once under the skin (lung would be 11)
        assert inside[0] in (Label.SKIN, Label.FAT) and Label.MUSCLE in inside
        assert labels[-1] == Label.TRABECULAR_BONE
        rep = assess(spine, Needle(para, para.target_depth_mm))
        assert rep.breach == "lateral" and rep.tip_in_body and not rep.medial_line_crossed_early


def test_parapedicular_path_refused_where_it_cannot_be_planned():
    from vp3d.needle.path import plan_parapedicular

    with pytest.raises(ValueError, match=r"only at thoracic levels \(T1-T12\), got L1"):
        plan_parapedicular(build_spine("L1", "L1"), "L1")
    with pytest.raises(ValueError, match="no parapedicular path at T2 on the right clears the rib head"):
        plan_parapedicular(build_spine("T2", "T2"), "T2")
