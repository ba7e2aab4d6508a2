"""Every clinician choice plans a safe needle to a tip in trabecular bone of the broken body.

:class:`vp3d.procedure.case.ProcedureModel` injects cement from the planned targets of both needles;
a tip outside trabecular bone (or cleft) makes the cement simulation refuse. Building a model
per choice is too slow for all 13 levels x 3 grades x 3 kinds, so the plan is checked on the
fractured X-ray spine the model uses (the level and its neighbours), with the rule the density
volume labels voxels by (deeper than the cortical shell in the vertebra's distance field), and
on real density volumes for a sample. One real model is built for a severe crush.
"""

from __future__ import annotations

import functools
import itertools

import numpy as np
import pytest

from vp3d.anatomy import LEVELS, build_spine
from vp3d.anatomy.spine import CORTICAL_SHELL_MM
from vp3d.checks import KINDS
from vp3d.pathology.fracture import Fracture, fracture_spine
from vp3d.pathology.kyphoplasty import MAX_BALLOON_ML, RESTORED_FRACTION, Balloon, with_cavity
from vp3d.needle.path import Needle, assess, plan_trajectory
from vp3d.levels import PROCEDURE_LEVELS
from vp3d.procedure.case import XRAY_SPACING_MM, Choices, ProcedureModel
from vp3d.anatomy.volume import Label

SIDES = ("right", "left")
GRADES = (1, 2, 3)
#: Corners of the voxel (at the X-ray spacing) whose centre is nearest to a point.
CORNERS = np.array(list(itertools.product((-0.5, 0.5), repeat=3))) * XRAY_SPACING_MM


@functools.lru_cache(maxsize=None)
def _xspine(level: str):
    """The model's X-ray spine: the level and one neighbour each side."""
    i = LEVELS.index(level)
    spine = build_spine(LEVELS[max(i - 1, 0)], LEVELS[min(i + 1, len(LEVELS) - 1)])
    spine.vertebrae[level].field  # sampled once; every fractured copy shares it
    return spine


def _trabecular(part, point_mm: np.ndarray) -> bool:
    """Trabecular bone at the point and the corners of a voxel around it (the labelling rule)."""
    pts = point_mm[None, :] + np.vstack([np.zeros(3), CORNERS])
    return bool(np.all(part.distance_patient(pts) < -CORTICAL_SHELL_MM))


def _local(part, p):
    inv = np.linalg.inv(part.transform)
    return inv[:3, :3] @ p + inv[:3, 3]


@pytest.mark.parametrize("level", PROCEDURE_LEVELS)
def test_every_fracture_gets_a_safe_path_to_trabecular_bone(level):
    spine = _xspine(level)
    failures = []
    for kind, grade in itertools.product(KINDS, GRADES):
        fracture = Fracture(level, grade, kind)
        broken = fracture_spine(spine, fracture, 1.0)
        # Kyphoplasty injects into the body the balloon lifted; the tip stays where it was.
        lifted = fracture_spine(spine, fracture, 1.0 - RESTORED_FRACTION)
        v = broken.vertebrae[level]
        m = v.morphometry
        for side in SIDES:
            traj = plan_trajectory(broken, level, side)
            tip = Needle(traj, traj.target_depth_mm).tip_mm
            y = _local(v, tip)[1]
            what = (kind, grade, side)
            if not _trabecular(v, tip):
                failures.append((*what, "tip not in trabecular bone"))
            if not _trabecular(lifted.vertebrae[level], tip):
                failures.append((*what, "tip not in trabecular bone of the lifted body"))
            # Anterior third, except where a severe crush leaves no safe line to it; never
            # behind the body's centre.
            if y < (m.endplate_depth_mm / 6 if (kind, grade) != ("crush", 3) else -0.5):
                failures.append((*what, f"target {y:.1f} mm from the centre, depth {m.endplate_depth_mm}"))
            final = assess(broken, Needle(traj, traj.target_depth_mm))
            if not (final.tip_in_body and final.wall_clearance_mm > 0):
                failures.append((*what, final))
            for depth in np.linspace(traj.pedicle_entry_depth_mm, traj.target_depth_mm, 12):
                rep = assess(broken, Needle(traj, depth))
                if not rep.safe:
                    failures.append((*what, round(depth, 1), rep))
                    break
    assert not failures, failures


#: Severe fractures where the collapse moves the target most, and a thin upper-thoracic body.
SAMPLE = [("T5", 3, "crush"), ("T10", 3, "crush"), ("T12", 3, "crush"), ("L1", 3, "wedge"),
          ("T11", 3, "biconcave"), ("L5", 3, "crush")]


@pytest.mark.parametrize("level, grade, kind", SAMPLE)
def test_tip_voxel_is_open_bone_in_the_models_volumes(level, grade, kind):
    """The voxel at each tip, as the cement simulation finds it, in the broken volume and in
    the kyphoplasty volume (lifted body with the balloon cavity)."""
    spine = _xspine(level)
    fracture = Fracture(level, grade, kind)
    broken = fracture_spine(spine, fracture, 1.0)
    needles = [Needle(t, t.target_depth_mm) for t in (plan_trajectory(broken, level, s) for s in SIDES)]
    balloons = [Balloon(n.tip_mm, n.trajectory.direction, MAX_BALLOON_ML * 0.75) for n in needles]
    volumes = {
        "broken": broken.density_volume(XRAY_SPACING_MM),
        "cavity": with_cavity(fracture_spine(spine, fracture, 1.0 - RESTORED_FRACTION)
                              .density_volume(XRAY_SPACING_MM), balloons),
    }
    for name, vol in volumes.items():
        for n in needles:
            idx = tuple(np.round((n.tip_mm - vol.origin_mm) / vol.spacing_mm).astype(int))
            assert vol.labels[idx] in (Label.TRABECULAR_BONE, Label.CLEFT), (name, n.trajectory.side,
                                                                             Label(int(vol.labels[idx])).name)


def test_severe_crush_at_t12_builds_a_model():
    model = ProcedureModel(Choices("T12", 3, "crush"), rows=64)
    assert model.cement.total_ml > 0
    frame = model.frame({"fracture.t": 1.0, "needle.depth": 1.0, "cement.ml": 3.0})
    assert frame.safety.breach is None and frame.safety.tip_in_body


def test_small_crushed_body_simulates_what_it_holds():
    """T6 crushed to grade 3 holds less than the 8 mL simulated elsewhere: the model simulates
    what it holds, and the storyboard's 3 mL fill still works."""
    from vp3d.cement import CapacityError, simulate_injection
    from vp3d.procedure.case import SIMULATED_ML, Choices, ProcedureModel

    model = ProcedureModel(Choices("T6", 3, "crush"), rows=32)
    assert 3.0 < model.simulated_ml < SIMULATED_ML
    frame = model.frame({"fracture.t": 1.0, "needle.depth": 1.0, "cement.ml": 3.0})
    assert frame.safety is not None and frame.safety.breach is None
    assert model.cement.mask_at(3.0).sum() > 0
    at_target = [Needle(t, t.target_depth_mm) for t in model.trajectories]
    with pytest.raises(CapacityError) as full:
        simulate_injection(model.broken_volume, at_target, SIMULATED_ML)
    assert full.value.capacity_ml == pytest.approx(model.simulated_ml, abs=0.15)
