"""Rigid transforms that stack vertebrae into a spine with a published sagittal profile.

Each motion segment's sagittal angle (``segmental_angle_deg`` in the morphometry table,
Bernhardt & Bridwell, Spine 1989;14:717-721; kyphosis positive) is split into the wedge
of the upper vertebral body (from its anterior and posterior heights) and the wedge of
the disc below it, which is what this module turns into a rotation about the disc centre.
"""

from __future__ import annotations

import numpy as np

from vp3d.anatomy.body import MEASURE_INSET_MM
from vp3d.anatomy.morphometry import LEVELS, LevelMorphometry, morphometry


def rotation_x(angle_deg: float) -> np.ndarray:
    """4x4 rotation about +x; a positive angle turns +y (anterior) towards +z (cranial)."""
    a = np.radians(angle_deg)
    c, s = np.cos(a), np.sin(a)
    m = np.eye(4)
    m[1:3, 1:3] = [[c, -s], [s, c]]
    return m


def translation(v) -> np.ndarray:
    m = np.eye(4)
    m[:3, 3] = v
    return m


def centre_height_mm(m: LevelMorphometry) -> float:
    """Rim height of the body at its centre (y = 0): the mean of the two wedge heights."""
    return (m.body_anterior_height_mm + m.body_posterior_height_mm) / 2


def body_wedge_deg(m: LevelMorphometry) -> float:
    """Kyphotic wedge of the body (positive when the anterior height is smaller)."""
    span = m.endplate_depth_mm - 2 * MEASURE_INSET_MM
    return float(np.degrees(np.arctan2(m.body_posterior_height_mm - m.body_anterior_height_mm, span)))


def disc_wedge_deg(upper: LevelMorphometry) -> float:
    """Kyphotic wedge of the disc below ``upper``: segment angle minus the body's wedge."""
    return upper.segmental_angle_deg - body_wedge_deg(upper)


def disc_frame(upper: LevelMorphometry) -> np.ndarray:
    """Disc mid-plane frame (origin at the disc centre) in the upper vertebra's frame."""
    z = -centre_height_mm(upper) / 2 - upper.disc_height_mm / 2
    return translation([0.0, 0.0, z]) @ rotation_x(disc_wedge_deg(upper) / 2)


def lower_in_upper(upper: LevelMorphometry, lower: LevelMorphometry) -> np.ndarray:
    """4x4 transform from the lower vertebra's frame to the upper vertebra's frame."""
    half_turn = rotation_x(disc_wedge_deg(upper) / 2)
    down = translation([0.0, 0.0, -upper.disc_height_mm / 2 - centre_height_mm(lower) / 2])
    return disc_frame(upper) @ half_turn @ down


def level_transforms() -> dict[str, np.ndarray]:
    """Local -> patient transform of every level T1-L5, with L1 at the patient origin."""
    out = {"L1": np.eye(4)}
    i1 = LEVELS.index("L1")
    for i in range(i1 + 1, len(LEVELS)):
        up, lo = LEVELS[i - 1], LEVELS[i]
        out[lo] = out[up] @ lower_in_upper(morphometry(up), morphometry(lo))
    for i in range(i1 - 1, -1, -1):
        up, lo = LEVELS[i], LEVELS[i + 1]
        out[up] = out[lo] @ np.linalg.inv(lower_in_upper(morphometry(up), morphometry(lo)))
    return out
