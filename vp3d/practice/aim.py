"""Aiming: the skin entry and angles a student sets, and the straight needle path they give.

Conventions: the patient/table frame of :mod:`vp3d.fluoro.carm` (RAS, mm); an aim is what a
C-arm shows, the skin entry relative to the treated level's centre and two projected angles.
Pure functions of a spine (or a :class:`vp3d.procedure.case.ProcedureModel`) and an aim.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from vp3d.checks import check_level
from vp3d.needle.path import NEEDLE_LENGTH_MM, SIDES, Trajectory, plan_trajectory
from vp3d.practice.values import check_side, number_in

#: Skin entry distance from the midline (mm) and height relative to the level's centre (mm).
ENTRY_LATERAL_RANGE_MM = (0.0, 120.0)
ENTRY_CRANIAL_RANGE_MM = (-80.0, 80.0)
#: Projected needle angles (deg): transverse plane from the sagittal plane, sagittal plane
#: from the axial plane. Planned paths need up to about 40 deg of each (L5: medial 39 deg
#: unipedicular, caudal 43 deg in the lordosis), so the student gets some room beyond.
ANGLE_RANGE_DEG = (-60.0, 60.0)
#: The aim's numbers a student may change (the side changes on its own).
AIM_FIELDS = ("entry_lateral_mm", "entry_cranial_mm", "medial_deg", "caudal_deg")
#: Each aim number's allowed range, as the page's sliders show it.
AIM_RANGES = {"entry_lateral_mm": ENTRY_LATERAL_RANGE_MM, "entry_cranial_mm": ENTRY_CRANIAL_RANGE_MM,
              "medial_deg": ANGLE_RANGE_DEG, "caudal_deg": ANGLE_RANGE_DEG}


@dataclass(frozen=True)
class NeedleAim:
    """Where the needle enters the skin and which way it points, in the table frame.

    Parameters
    ----------
    side : str
        ``"right"`` or ``"left"`` pedicle.
    entry_lateral_mm : float
        Skin entry distance from the midline (the treated level's centre), 0-120 mm, positive
        away from the midline on ``side``.
    entry_cranial_mm : float
        Skin entry height along +z relative to the treated level's centre, -80 to 80 mm.
    medial_deg : float
        Angle in the transverse (axial) plane from the sagittal plane, -60 to 60 deg; positive
        tips the needle towards the midline as it advances (what an axial CT shows).
    caudal_deg : float
        Angle in the sagittal plane from the axial plane, -60 to 60 deg; positive means the tip
        goes caudal as it advances (what a lateral view shows).
    """

    side: str
    entry_lateral_mm: float
    entry_cranial_mm: float
    medial_deg: float
    caudal_deg: float

    def __post_init__(self) -> None:
        object.__setattr__(self, "side", check_side(self.side))
        for name, (low, high) in AIM_RANGES.items():
            unit = name.rpartition("_")[2]
            object.__setattr__(self, name, number_in(name, getattr(self, name), low, high, unit))

    @property
    def sign(self) -> float:
        """+1 on the patient's right (+x), -1 on the left: the direction away from the midline."""
        return 1.0 if self.side == "right" else -1.0

    @property
    def direction(self) -> np.ndarray:
        """Unit vector from the skin entry towards the tip (patient RAS)."""
        d = np.array([-self.sign * math.tan(math.radians(self.medial_deg)), 1.0,
                      -math.tan(math.radians(self.caudal_deg))])
        return d / np.linalg.norm(d)


def spine_of(model_or_spine):
    """The spine of a model (its fractured X-ray spine), or the spine itself."""
    return getattr(model_or_spine, "broken_spine", model_or_spine)


def _skin_y(spine, x: float, z: float) -> float:
    return float(spine.skin.shape.back_surface_y(np.array([x]), np.array([z]))[0])


def _skin_crossing(spine, point: np.ndarray, direction: np.ndarray) -> np.ndarray:
    """Where the line ``point + t * direction`` crosses the skin of the back, nearest ``point``."""
    def outside_by(t: float) -> float:  # > 0 while the point is outside (behind) the skin
        p = point + t * direction
        return _skin_y(spine, p[0], p[2]) - p[1]

    lo, hi = -5.0, 5.0
    if not outside_by(lo) > 0 >= outside_by(hi):
        raise ValueError("the planned path does not cross the skin near its skin entry")
    for _ in range(60):  # bisection to far below a micrometre
        mid = 0.5 * (lo + hi)
        lo, hi = (mid, hi) if outside_by(mid) > 0 else (lo, mid)
    return point + hi * direction


def aim_of(trajectory: Trajectory, spine) -> NeedleAim:
    """The :class:`NeedleAim` of an existing trajectory (skin entry exactly on the skin)."""
    v = spine.vertebrae[trajectory.level]
    centre = v.transform[:3, 3]
    d = np.asarray(trajectory.direction, float)
    entry = _skin_crossing(spine, np.asarray(trajectory.skin_entry_mm, float), d)
    sign = 1.0 if trajectory.side == "right" else -1.0
    return NeedleAim(trajectory.side, sign * (entry[0] - centre[0]), entry[2] - centre[2],
                     math.degrees(math.atan2(-sign * d[0], d[1])), math.degrees(math.atan2(-d[2], d[1])))


def planned_trajectory(model_or_spine, level: str, side: str, bipedicular: bool) -> Trajectory:
    """The planner's trajectory, taken from the model when it already holds it."""
    for t in getattr(model_or_spine, "trajectories", ()) if bipedicular else ():
        if t.level == level and t.side == side:
            return t
    return plan_trajectory(spine_of(model_or_spine), level, side, bipedicular=bipedicular)


def planned_aim(model_or_spine, level: str, side: str = "right", *, bipedicular: bool = True) -> NeedleAim:
    """The aim matching :func:`vp3d.needle.plan_trajectory`, so keeping it follows the plan.

    ``model_or_spine`` is a :class:`vp3d.procedure.case.ProcedureModel` (its fractured X-ray spine and
    planned needles are used) or a spine.
    """
    level, side = check_level(level), check_side(side)
    spine = spine_of(model_or_spine)
    if level not in spine.levels:
        raise ValueError(f"level {level} is not in this spine ({spine.levels[0]}-{spine.levels[-1]})")
    return aim_of(planned_trajectory(model_or_spine, level, side, bipedicular), spine)


def line_depths(max_mm: float, step_mm: float = 0.25) -> np.ndarray:
    """Depths 0..``max_mm`` along a needle line, every ``step_mm``: where the line is sampled."""
    return np.arange(0.0, max_mm + 1e-9, step_mm)


def first_inside(part, entry: np.ndarray, direction: np.ndarray, max_mm: float) -> float | None:
    """Depth along the line where it first enters ``part``'s bone (None if it never does)."""
    s = line_depths(max_mm)
    inside = part.distance_patient(entry[None, :] + s[:, None] * direction[None, :]) < 0
    return float(s[int(np.argmax(inside))]) if inside.any() else None


def trajectory_for(spine, level: str, aim: NeedleAim, gauge: int, *, target_mm=None) -> Trajectory:
    """The straight path of ``aim`` at ``level``: skin entry on the skin, bony entry, target.

    The skin entry lies on the skin of the back at the aim's lateral and cranial offsets from
    the level's centre. The bony entry (``pedicle_entry_mm``, where :func:`vp3d.needle.assess`
    starts judging the walls) is where the line first enters the level's bone; a line that
    misses the bone gets the point 10 mm before its closest approach to the pedicle's isthmus,
    so the walls are judged there. ``target_mm`` is the planned target (planned here when not
    given); it may lie off this line, ``target_depth_mm`` is then the depth of closest approach.
    """
    level = check_level(level)
    if level not in spine.levels:
        raise ValueError(f"level {level} is not in this spine ({spine.levels[0]}-{spine.levels[-1]})")
    if not isinstance(aim, NeedleAim):
        raise ValueError(f"aim must be a NeedleAim, got {type(aim).__name__}")
    v = spine.vertebrae[level]
    centre = v.transform[:3, 3]
    x, z = centre[0] + aim.sign * aim.entry_lateral_mm, centre[2] + aim.entry_cranial_mm
    entry = np.array([x, _skin_y(spine, x, z), z])
    d = aim.direction
    if target_mm is None:
        target_mm = plan_trajectory(spine, level, aim.side).target_mm
    target = np.asarray(target_mm, dtype=float).reshape(3)
    s_bone = first_inside(v, entry, d, NEEDLE_LENGTH_MM)
    if s_bone is None:
        isthmus = v.transform[:3, :3] @ v.landmarks.pedicle_isthmus_mm[SIDES[aim.side]] + centre
        s_bone = max(float(np.dot(isthmus - entry, d)) - 10.0, 0.0)
    return Trajectory(level, aim.side, gauge, entry, entry + s_bone * d, target, d)
