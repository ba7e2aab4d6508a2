"""Transpedicular needle: planning, steering, and the safety checks a radiologist makes.

The planned path runs through the centre of the pedicle's isthmus (its narrowest part) to a
target in the anterior third of the vertebral body, inclined by the level's published
sagittal pedicle angle. Extended backwards it meets the bone at the upper-outer part of the
pedicle as seen on an AP view (the classic docking point) and the skin further out.

A fractured body is planned in its collapsed shape. The target must lie in its trabecular
bone (clear of the cortex, also at the partial collapse a kyphoplasty balloon leaves), and
the path must clear the pedicle's walls. Where the classic path cannot do both (a crushed
body pulls the pedicle's root down with it, so the line through the isthmus centre to the
moved target cuts the pedicle's floor), the planner searches straight lines through the
isthmus, lower or higher in it, to targets at other heights of the collapsed body, then
further back in the body, and keeps the one closest to the classic plan.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import numpy as np
from scipy import ndimage

from vp3d.anatomy.spine import CORTICAL_SHELL_MM
from vp3d.pathology.kyphoplasty import RESTORED_FRACTION, inflated_fraction
from vp3d.checks import check_level
from vp3d.geometry.sdf import BAND_MM

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
#: Least clearance the planner leaves between the needle and the pedicle's walls, mm.
PLAN_CLEARANCE_MM = 0.25
#: The planned tip keeps trabecular bone (not cortex) this far around it, mm, so the voxel
#: holding the tip is trabecular bone on any volume of up to about 1 mm spacing.
TIP_MARGIN_MM = 0.8


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


def _patient_to_local(v, p):
    """Patient points -> the vertebra's (deformed, if fractured) local frame."""
    inv = np.linalg.inv(v.transform)
    return np.asarray(p, float) @ inv[:3, :3].T + inv[:3, 3]


def _intact_distance(v, intact_local: np.ndarray) -> np.ndarray:
    """The vertebra's signed distance (mm) at points of its undeformed local frame."""
    idx = (intact_local - np.asarray(v.grid.origin_mm)) / v.grid.spacing_mm
    coords = np.moveaxis(idx, -1, 0).reshape(3, -1)
    out = ndimage.map_coordinates(v.field, coords, order=1, mode="constant", cval=BAND_MM)
    return out.reshape(intact_local.shape[:-1])


def _collapse_states(v) -> list:
    """The deformations a planned tip must stay in bone for: the collapse planned on and the
    partial collapses a kyphoplasty balloon lifts it to (the tip does not move with the bone)."""
    d = v.deformation
    if d is None:
        return [None]
    full = inflated_fraction(d.fracture.height_loss)  # balloons full, before they are emptied
    lifts = sorted({0.0, 0.5 * RESTORED_FRACTION, RESTORED_FRACTION, 0.5 * (RESTORED_FRACTION + full), full})
    return [dataclasses.replace(d, t=d.t * (1.0 - f)) for f in lifts]


def _target_in_trabecular(v, local: np.ndarray) -> np.ndarray:
    """Per (deformed) local point: trabecular bone of the body, TIP_MARGIN_MM clear of cortex.

    Judged for every state of :func:`_collapse_states` at the point and TIP_MARGIN_MM from it
    along each axis; the voxel labels of a density volume follow the same rule (the field's
    distance, mapped back to the intact shape, deeper than the cortical shell).
    """
    local = np.atleast_2d(np.asarray(local, float))
    m = v.morphometry
    offsets = np.vstack([np.zeros(3), TIP_MARGIN_MM * np.eye(3), -TIP_MARGIN_MM * np.eye(3)])
    pts = local[:, None, :] + offsets[None, :, :]
    ok = np.abs(local[:, 1]) < m.endplate_depth_mm / 2  # the body, not the pedicle
    for state in _collapse_states(v):
        intact = pts if state is None else state.inverse(pts)
        ok &= np.all(_intact_distance(v, intact) < -CORTICAL_SHELL_MM, axis=1)
    return ok


def plan_trajectory(spine, level: str, side: str = "right", *, bipedicular: bool = True,
                    gauge: int | None = None) -> Trajectory:
    """Plan a transpedicular path for ``level`` from ``side``.

    ``bipedicular`` aims each needle at its own half of the body (a quarter of the width from
    the midline); a single (unipedicular) needle aims at the midline. ``gauge`` defaults to
    :func:`choose_gauge` of the pedicle width. The target always lies in trabecular bone of the
    (possibly collapsed) body, in the anterior third where a path clear of the pedicle's walls
    reaches it (see the module docstring).
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
    # Where the pedicle's own axis meets the anterior third: easiest to reach, but it can lie
    # outside the narrow front of a heart-shaped thoracic body, so every target is checked.
    isthmus, axis = v.landmarks.pedicle_isthmus_mm[SIDES[side]], v.landmarks.pedicle_axis[SIDES[side]]
    y_t = m.endplate_depth_mm / 3
    along_axis = isthmus[0] + axis[0] / axis[1] * (y_t - isthmus[1])
    # Aim at the desired point, or as close to it as the pedicle allows (narrow or divergent
    # pedicles do not allow a steep medial angle).
    for x_t in np.linspace(desired, along_axis, 16):
        traj = _aim(spine, v, side, gauge, x_t)
        if _target_in_trabecular(v, _patient_to_local(v, traj.target_mm))[0] and _clears_walls(spine, traj):
            return traj
    # No classic path fits (a collapsed body): search other heights and depths of the body.
    return _search(spine, v, side, gauge, desired, along_axis) or traj


#: Levels where a parapedicular path is planned: the thoracic spine, where the rib head lies
#: beside the pedicle (CIRSE 2017 standards of practice for vertebral augmentation).
PARAPEDICULAR_LEVELS = tuple(f"T{i}" for i in range(1, 13))
#: Clearance (mm) a parapedicular path keeps from the rib's head and neck and from the sac.
RIB_CLEARANCE_MM = 1.0


def plan_parapedicular(spine, level: str, side: str = "right", *, bipedicular: bool = True,
                       gauge: int | None = None) -> Trajectory:
    """Plan a parapedicular path at a thoracic ``level``: beside the pedicle's lateral wall,
    between it and the rib head, into the posterolateral corner of the body.

    The target is the transpedicular plan's (trabecular bone of the anterior third). The path
    passes the isthmus 1-8 mm lateral to the pedicle's wall, at its height, up to 10 mm lower
    or 2 mm higher, and is kept when it clears every rib (head, neck and shaft) and the thecal sac by
    ``RIB_CLEARANCE_MM``, passes the pedicle on its lateral side (not above or below it) and
    stays medial to the rib heads in front of them, where the pleura
    lies further out. The first such path, closest to the pedicle, is kept.
    """
    from vp3d.anatomy.trunk import Trunk

    level = check_level(level)
    if level not in PARAPEDICULAR_LEVELS:
        raise ValueError(f"a parapedicular path is planned only at thoracic levels (T1-T12), got {level}")
    classic = plan_trajectory(spine, level, side, bipedicular=bipedicular, gauge=gauge)
    v, m = spine.vertebrae[level], spine.vertebrae[level].morphometry
    sign = 1.0 if side == "right" else -1.0
    r = GAUGES[classic.gauge][0] / 2
    ribs = [c for c in Trunk(spine.skin.shape).ribs if not c.cartilage]
    isthmus = v.landmarks.pedicle_isthmus_mm[SIDES[side]]
    if v.deformation is not None:
        isthmus = v.deformation.forward(isthmus[None])[0]
    # The rib heads sit on the body's sides, a little behind its middle (as the trunk builds them).
    head_x, head_y = m.endplate_width_mm / 2 + 2.0, -0.45 * m.endplate_depth_mm / 2
    for dz in (0.0, -1.0, -2.0, -3.0, -4.0, -5.0, -6.0, -7.0, -8.0, -9.0, -10.0, 1.0, 2.0):
        for gap in (1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0):
            through_local = isthmus + np.array([sign * (m.pedicle_width_mm / 2 + r + gap), 0.0, dz])
            through = _local_to_patient(v, through_local)
            direction = classic.target_mm - through
            direction /= np.linalg.norm(direction)
            try:
                traj = _complete(spine, level, side, classic.gauge, through, direction, classic.target_mm)
            except ValueError:
                continue
            if (_parapedicular_clear(spine, v, traj, ribs, r, head_x, head_y)
                    and assess(spine, Needle(traj, traj.target_depth_mm)).breach in (None, "lateral")):
                return traj
    raise ValueError(f"no parapedicular path at {level} on the {side} clears the rib head and the pedicle; "
                     f"plan a transpedicular one")


def _parapedicular_clear(spine, v, traj: Trajectory, ribs, r: float, head_x: float, head_y: float) -> bool:
    """The path from skin to target misses every rib and the sac, and runs medial to the rib
    heads (away from the pleura) in front of them."""
    s = np.arange(0.0, traj.target_depth_mm + 1e-9, 0.5)
    pts = traj.skin_entry_mm[None, :] + s[:, None] * traj.direction[None, :]
    for cap in ribs:
        ab = cap.b - cap.a
        t = np.clip((pts - cap.a) @ ab / float(ab @ ab), 0.0, 1.0)
        if np.min(np.linalg.norm(pts - (cap.a + t[:, None] * ab), axis=1)) < cap.radius_mm + r + RIB_CLEARANCE_MM:
            return False
    if np.min(spine.cord.distance_patient(pts)) < r + RIB_CLEARANCE_MM:
        return False
    local = _patient_to_local(v, pts)
    front = local[:, 1] > head_y
    return bool(np.all(np.abs(local[front, 0]) < head_x - r))


def _clears_walls(spine, traj: Trajectory) -> bool:
    """Every stage from the bony entry to the target keeps PLAN_CLEARANCE_MM to the walls."""
    depths = np.linspace(traj.pedicle_entry_depth_mm, traj.target_depth_mm, 16)
    return all(assess(spine, Needle(traj, d)).wall_clearance_mm > PLAN_CLEARANCE_MM for d in depths)


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


#: Search grid of :func:`_search` (mm): heights of the line at the isthmus, heights of the
#: target, and how far behind the isthmus a line is followed to find where it meets bone.
_THROUGH_DZ_MM = np.arange(-6.0, 6.01, 0.5)
_TARGET_STEP_MM = 0.5
_BEHIND_MM = 80.0
_LINE_STEP_MM = 0.5


def _search(spine, v, side: str, gauge: int, desired: float, along_axis: float) -> Trajectory | None:
    """Best straight path in the (collapsed) body when the classic path does not fit.

    Candidate targets run from the middle of the anterior third backwards (never behind the
    body's centre), from ``desired`` towards ``along_axis`` across, and over every height of
    the body where :func:`_target_in_trabecular` holds; lines pass through the isthmus at
    heights up to 6 mm off its centre. The first target depth and lateral position with a
    line clear of the walls wins, at the height closest to the classic aim (moved with the
    collapse); with none clear anywhere, the line with the most clearance. ``None`` when no
    height of the body holds a target.
    """
    m = v.morphometry
    k = SIDES[side]
    isthmus = v.landmarks.pedicle_isthmus_mm[k]
    tilt = np.tan(np.radians(max(m.pedicle_sagittal_angle_deg, MIN_CAUDAL_DEG)))
    through0 = isthmus if v.deformation is None else v.deformation.forward(isthmus)
    through = through0[None, :] + _THROUGH_DZ_MM[:, None] * np.array([0.0, 0.0, 1.0])
    half_h = max(m.body_anterior_height_mm, m.body_posterior_height_mm) / 2 + 2.0
    heights = np.arange(-half_h, half_h + 1e-9, _TARGET_STEP_MM)
    r = GAUGES[gauge][0] / 2
    depth = m.endplate_depth_mm
    best = None  # (clearance, through, target) when nothing clears the walls
    for y_t in depth * np.array([1 / 3, 0.27, 0.21, 0.12, 0.0]):
        for x_t in np.linspace(desired, along_axis, 9):
            column = np.stack([np.full_like(heights, x_t), np.full_like(heights, y_t), heights], axis=1)
            z_ok = heights[_target_in_trabecular(v, column)]
            if len(z_ok) == 0:
                continue
            classic = np.array([x_t, y_t, isthmus[2] - np.hypot(x_t - isthmus[0], y_t - isthmus[1]) * tilt])
            z_ideal = classic[2] if v.deformation is None else v.deformation.forward(classic)[2]
            zz, dz = np.meshgrid(z_ok, _THROUGH_DZ_MM, indexing="ij")
            targets = np.stack([np.full(zz.size, x_t), np.full(zz.size, y_t), zz.ravel()], axis=1)
            starts = through[np.tile(np.arange(len(_THROUGH_DZ_MM)), len(z_ok))]
            clear = _line_clearance(v, starts, targets, r)
            cost = np.abs(zz.ravel() - z_ideal) + 0.5 * np.abs(dz.ravel())
            for i in np.argsort(np.where(clear > PLAN_CLEARANCE_MM + 0.1, cost, np.inf))[:4]:
                if not clear[i] > PLAN_CLEARANCE_MM + 0.1:
                    break
                traj = _line(spine, v, side, gauge, starts[i], targets[i])
                if _clears_walls(spine, traj):
                    return traj
            i = int(np.argmax(clear))
            if best is None or clear[i] > best[0]:
                best = (clear[i], starts[i], targets[i])
    return None if best is None else _line(spine, v, side, gauge, best[1], best[2])


def _line(spine, v, side: str, gauge: int, through_local: np.ndarray, target_local: np.ndarray) -> Trajectory:
    """Trajectory along the line from ``through_local`` to ``target_local`` (local frame)."""
    d_local = (target_local - through_local) / np.linalg.norm(target_local - through_local)
    return _complete(spine, v.level, side, gauge, _local_to_patient(v, through_local),
                     v.transform[:3, :3] @ d_local, _local_to_patient(v, target_local))


def _line_clearance(v, starts: np.ndarray, targets: np.ndarray, r: float) -> np.ndarray:
    """Per line ``starts[i] -> targets[i]`` (local frame): the least wall clearance of a needle
    of radius ``r``, judged as :func:`assess` judges it (from DOCKING_ALLOWANCE_MM past where
    the line meets the bone to 2 mm into the body); ``-inf`` for a line that misses the bone or
    crosses the medial line early."""
    m = v.morphometry
    u = targets - starts
    u /= np.linalg.norm(u, axis=1, keepdims=True)
    y_stop = -m.endplate_depth_mm / 2 + 2.0
    reach = float(np.max((y_stop - starts[:, 1]) / np.maximum(u[:, 1], 0.1))) + 1.0
    s = np.arange(-_BEHIND_MM, reach, _LINE_STEP_MM)
    pts = starts[:, None, :] + s[None, :, None] * u[:, None, :]
    intact = pts if v.deformation is None else v.deformation.inverse(pts)
    d = _intact_distance(v, intact)
    inside = d < 0
    dock = s[np.argmax(inside, axis=1)]
    past = s[None, :] >= dock[:, None]
    judged = (s[None, :] >= dock[:, None] + DOCKING_ALLOWANCE_MM) & (pts[..., 1] < y_stop)
    clear = np.where(judged, -d - r, np.inf).min(axis=1)
    early = (past & (np.abs(pts[..., 0]) < m.canal_width_mm / 2)
             & (pts[..., 1] < -m.endplate_depth_mm / 2)).any(axis=1)
    clear[~inside.any(axis=1) | early] = -np.inf
    return clear


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
