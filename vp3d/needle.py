"""Transpedicular needle: planning, steering, and the safety checks a radiologist makes.

The planned path runs through the centre of the pedicle's isthmus (its narrowest part) to a
target in the anterior third of the vertebral body, inclined by the level's published
sagittal pedicle angle. Extended backwards it meets the bone at the upper-outer part of the
pedicle as seen on an AP view (the classic docking point) and the skin further out.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import numpy as np

from vp3d.morphometry import check_level

#: Outer / inner diameter (mm) of regular-wall needles by gauge (ISO 9626:2016, Table 1).
#: Vertebroplasty uses 11- or 13-gauge needles, 15-gauge in small upper-thoracic pedicles
#: (Mathis et al., AJNR Am J Neuroradiol 2001;22:373-381).
GAUGES = {11: (3.05, 2.39), 13: (2.41, 1.80), 15: (1.83, 1.37)}
#: A planned needle is no wider than this fraction of the pedicle's outer width, leaving a
#: margin for aiming error on both sides (teaching rule used by the planner).
MAX_WIDTH_FRACTION = 0.5
#: Length of a vertebroplasty trocar needle, mm (10-15 cm devices are usual; the longest is modelled).
NEEDLE_LENGTH_MM = 150.0
SIDES = {"right": 0, "left": 1}
#: Smallest caudal tilt of a planned path (lumbar pedicles are nearly horizontal), degrees.
MIN_CAUDAL_DEG = 5.0
#: Depth past the docking point before wall checks start (the needle crosses the posterior
#: cortex there, which is not a breach), mm.
DOCKING_ALLOWANCE_MM = 4.0


def choose_gauge(pedicle_width_mm: float) -> int:
    """Widest gauge (smallest number) whose diameter fits the pedicle rule."""
    for g in (11, 13, 15):
        if GAUGES[g][0] <= MAX_WIDTH_FRACTION * pedicle_width_mm:
            return g
    return 15


@dataclass(frozen=True)
class Trajectory:
    """A straight needle path in the patient frame (mm)."""

    level: str
    side: str
    gauge: int
    skin_entry_mm: np.ndarray
    pedicle_entry_mm: np.ndarray
    target_mm: np.ndarray
    direction: np.ndarray  # unit, from skin towards target

    @property
    def outer_diameter_mm(self) -> float:
        return GAUGES[self.gauge][0]

    @property
    def inner_diameter_mm(self) -> float:
        return GAUGES[self.gauge][1]

    @property
    def target_depth_mm(self) -> float:
        """Depth from the skin entry at which the tip reaches the target."""
        return float(np.dot(self.target_mm - self.skin_entry_mm, self.direction))

    @property
    def pedicle_entry_depth_mm(self) -> float:
        return float(np.dot(self.pedicle_entry_mm - self.skin_entry_mm, self.direction))


@dataclass(frozen=True)
class Needle:
    """A needle on a trajectory, advanced ``depth_mm`` past the skin entry."""

    trajectory: Trajectory
    depth_mm: float

    def __post_init__(self):
        d = self.depth_mm
        limit = NEEDLE_LENGTH_MM - 10.0
        if not (isinstance(d, (int, float, np.floating)) and np.isfinite(d) and 0.0 <= d <= limit):
            raise ValueError(f"needle depth_mm must be between 0 and {limit:.0f} mm, got {d!r}")

    @property
    def tip_mm(self) -> np.ndarray:
        t = self.trajectory
        return t.skin_entry_mm + t.direction * self.depth_mm

    @property
    def hub_mm(self) -> np.ndarray:
        return self.tip_mm - self.trajectory.direction * NEEDLE_LENGTH_MM

    @property
    def outer_diameter_mm(self) -> float:
        return self.trajectory.outer_diameter_mm

    @property
    def inner_diameter_mm(self) -> float:
        return self.trajectory.inner_diameter_mm


def _local_to_patient(v, p):
    return v.transform[:3, :3] @ p + v.transform[:3, 3]


def plan_trajectory(spine, level: str, side: str = "right", *, bipedicular: bool = True,
                    gauge: int | None = None) -> Trajectory:
    """Plan a transpedicular path for ``level`` from ``side``.

    ``bipedicular`` aims each needle at its own half of the body (a quarter of the width from
    the midline); a single (unipedicular) needle aims at the midline. ``gauge`` defaults to
    :func:`choose_gauge` of the pedicle width.
    """
    level = check_level(level)
    if level not in spine.levels:
        raise ValueError(f"level {level} is not in this spine ({spine.levels[0]}-{spine.levels[-1]})")
    if side not in SIDES:
        raise ValueError(f"side must be 'right' or 'left', got {side!r}")
    v = spine.vertebrae[level]
    m = v.morphometry
    gauge = choose_gauge(m.pedicle_width_mm) if gauge is None else gauge
    if gauge not in GAUGES:
        raise ValueError(f"gauge must be one of {sorted(GAUGES)}, got {gauge!r}")
    sign = 1.0 if side == "right" else -1.0
    desired = sign * 0.22 * m.endplate_width_mm / 2 if bipedicular else 0.0
    # Where the pedicle's own axis meets the anterior third: always reachable safely.
    isthmus, axis = v.landmarks.pedicle_isthmus_mm[SIDES[side]], v.landmarks.pedicle_axis[SIDES[side]]
    y_t = m.endplate_depth_mm / 3
    along_axis = isthmus[0] + axis[0] / axis[1] * (y_t - isthmus[1])
    # Aim at the desired point, or as close to it as the pedicle allows (narrow or divergent
    # pedicles do not allow a steep medial angle).
    for x_t in np.linspace(desired, along_axis, 16):
        traj = _aim(spine, v, side, gauge, x_t)
        depths = np.linspace(traj.pedicle_entry_depth_mm, traj.target_depth_mm, 16)
        if all(assess(spine, Needle(traj, d)).wall_clearance_mm > 0.25 for d in depths):
            return traj
    return traj


def _aim(spine, v, side: str, gauge: int, x_t: float) -> Trajectory:
    """Trajectory through the pedicle's isthmus centre to (x_t, anterior third) in ``v``."""
    m = v.morphometry
    isthmus = v.landmarks.pedicle_isthmus_mm[SIDES[side]]
    y_t = m.endplate_depth_mm / 3  # middle of the anterior third: D/2 - D/6
    horiz = np.array([x_t - isthmus[0], y_t - isthmus[1]])
    run = np.linalg.norm(horiz)
    # Sagittal angle from the table (positive: the path descends as it goes forward), at
    # least MIN_CAUDAL_DEG so the docking point sits on the upper half of the pedicle on AP.
    drop = run * np.tan(np.radians(max(m.pedicle_sagittal_angle_deg, MIN_CAUDAL_DEG)))
    target_local = np.array([x_t, y_t, isthmus[2] - drop])
    if v.deformation is not None:
        # A fractured body has collapsed: aim at where the target point went, not where it was.
        target_local, isthmus = v.deformation.forward(np.array([target_local, isthmus]))
    d_local = target_local - isthmus
    d_local /= np.linalg.norm(d_local)
    target = _local_to_patient(v, target_local)
    direction = v.transform[:3, :3] @ d_local
    through = _local_to_patient(v, isthmus)
    return _complete(spine, v.level, side, gauge, through, direction, target)


def _complete(spine, level, side, gauge, through, direction, target) -> Trajectory:
    """Find the skin entry and the bony entry of the line ``through + s * direction``."""
    skin = spine.skin.shape
    back = np.arange(0.0, 300.0, 0.5)
    pts = through[None, :] - back[:, None] * direction[None, :]
    skin_y = skin.back_surface_y(pts[:, 0], pts[:, 2])
    outside = pts[:, 1] < skin_y
    if not outside.any():
        raise ValueError("the path does not reach the skin of the back within 30 cm")
    skin_entry = pts[int(np.argmax(outside))]
    # Bony entry: first point (from outside in) inside the level's bone.
    v = spine.vertebrae[level]
    s = np.arange(0.0, np.dot(through - skin_entry, direction) + 0.01, 0.25)
    line = skin_entry[None, :] + s[:, None] * direction[None, :]
    inside = v.distance_patient(line) < 0
    entry = line[int(np.argmax(inside))] if inside.any() else through
    return Trajectory(level, side, gauge, skin_entry, entry, target, direction)


def steer(spine, trajectory: Trajectory, *, medial_deg: float = 0.0, caudal_deg: float = 0.0,
          pivot: str = "pedicle_entry") -> Trajectory:
    """Re-aim a trajectory by ``medial_deg`` (towards the midline) and ``caudal_deg``.

    The needle pivots on its docking point on the bone (``"pedicle_entry"``) or on the skin
    entry (``"skin"``). Angles beyond +-45 deg are refused.
    """
    for name, val in (("medial_deg", medial_deg), ("caudal_deg", caudal_deg)):
        if not (np.isfinite(val) and -45.0 <= val <= 45.0):
            raise ValueError(f"{name} must be between -45 and 45 degrees, got {val!r}")
    if pivot not in ("pedicle_entry", "skin"):
        raise ValueError(f"pivot must be 'pedicle_entry' or 'skin', got {pivot!r}")
    v = spine.vertebrae[trajectory.level]
    r = v.transform[:3, :3]
    d = r.T @ trajectory.direction  # in the vertebra's frame
    sign = 1.0 if trajectory.side == "right" else -1.0
    # Medial: rotate about the local z axis towards the midline (towards -x on the right).
    a = np.radians(medial_deg) * sign
    rz = np.array([[np.cos(a), -np.sin(a), 0], [np.sin(a), np.cos(a), 0], [0, 0, 1]])
    d = rz @ d
    # Caudal: tilt the forward direction downwards about the axis perpendicular to it.
    b = np.radians(caudal_deg)
    axis = np.cross(d, [0.0, 0.0, 1.0])
    axis /= np.linalg.norm(axis)
    d = _rotate(d, axis, b)
    direction = r @ d
    p = trajectory.pedicle_entry_mm if pivot == "pedicle_entry" else trajectory.skin_entry_mm
    dist = np.dot(trajectory.target_mm - p, trajectory.direction)
    target = p + direction * dist
    new = _complete(spine, trajectory.level, trajectory.side, trajectory.gauge, p, direction, target)
    if pivot == "pedicle_entry":
        new = dataclasses.replace(new, pedicle_entry_mm=trajectory.pedicle_entry_mm)
    return new


def _rotate(v, axis, angle):
    """Rodrigues rotation of ``v`` about unit ``axis``: positive angle tips forward down."""
    return (v * np.cos(angle) + np.cross(axis, v) * np.sin(angle)
            + axis * np.dot(axis, v) * (1 - np.cos(angle)))


@dataclass(frozen=True)
class SafetyReport:
    """What the operator watches for while advancing the needle."""

    wall_clearance_mm: float  # needle surface to the pedicle's outer surface (< 0: breach)
    breach: str | None  # "medial", "lateral", "superior", "inferior" or None
    medial_line_crossed_early: bool  # AP: tip medial to the pedicle before the body on lateral
    tip_in_body: bool
    tip_to_target_mm: float

    @property
    def safe(self) -> bool:
        return self.breach is None and not self.medial_line_crossed_early


def assess(spine, needle: Needle) -> SafetyReport:
    """Check a needle against the pedicle walls and the AP/lateral safety rule.

    The classic rule: on AP the tip must not cross the medial edge of the pedicle's oval
    before, on lateral, it has passed the posterior wall of the body; otherwise it may be in
    the canal.
    """
    t = needle.trajectory
    v = spine.vertebrae[t.level]
    m = v.morphometry
    k = SIDES[t.side]
    inv = np.linalg.inv(v.transform)
    r = needle.outer_diameter_mm / 2
    # Walls are judged once the needle is through the posterior cortex where it docked.
    start = max(t.pedicle_entry_depth_mm + DOCKING_ALLOWANCE_MM, 0.0)
    depths = np.arange(start, needle.depth_mm + 1e-9, 0.25)
    tip_local = inv[:3, :3] @ needle.tip_mm + inv[:3, 3]
    y_wall = -m.endplate_depth_mm / 2
    crossed = bool(abs(tip_local[0]) < m.canal_width_mm / 2 and tip_local[1] < y_wall)
    body = m.endplate_depth_mm / 2
    tip_in_body = bool(-body < tip_local[1] < body and v.distance_patient(needle.tip_mm[None])[0] < 0)
    to_target = float(np.linalg.norm(needle.tip_mm - t.target_mm))
    if len(depths) == 0:  # not yet through the cortex: nothing to judge
        return SafetyReport(float("inf"), None, crossed, tip_in_body, to_target)
    axis_pts = t.skin_entry_mm[None, :] + depths[:, None] * t.direction[None, :]
    local = axis_pts @ inv[:3, :3].T + inv[:3, 3]
    # The pedicle stretch: from the bony entry to the posterior wall of the body.
    in_pedicle = local[:, 1] < y_wall + 2.0
    clearance = -v.distance_patient(axis_pts) - r
    breach = None
    wall = float(np.min(clearance[in_pedicle])) if in_pedicle.any() else float(np.min(clearance))
    if in_pedicle.any() and wall < 0:
        i = int(np.argmin(np.where(in_pedicle, clearance, np.inf)))
        axis_pt = local[i]
        isthmus, paxis = v.landmarks.pedicle_isthmus_mm[k], v.landmarks.pedicle_axis[k]
        on_axis = isthmus + paxis * np.dot(axis_pt - isthmus, paxis)
        off = axis_pt - on_axis
        if abs(off[2]) > abs(off[0]):
            breach = "superior" if off[2] > 0 else "inferior"
        else:
            breach = "medial" if abs(axis_pt[0]) < abs(on_axis[0]) else "lateral"
    return SafetyReport(wall, breach, crossed, tip_in_body, to_target)
