"""The practice's C-arm: its two views, the angles a student may turn them to, and the checks.

Angles are the C-arm's own (:mod:`vp3d.fluoro.carm`); the page counts the lateral view's
rotation from the true lateral (:data:`LATERAL_ROTATION_ZERO_DEG`).
"""

from __future__ import annotations

import dataclasses

from vp3d.fluoro import CArm
from vp3d.practice.values import number_in, shown

#: The practice's fluoroscopy views, in the order they are shown.
CARM_VIEWS = ("ap", "lateral")
#: C-arm angles the student may set, per view (deg, the CArm's own conventions):
#: AP oblique up to 45 deg either way, lateral within 45 deg of a true left-source lateral,
#: cranio-caudal tilt within 40 deg.
VIEW_LAO_RANGE_DEG = {"ap": (-45.0, 45.0), "lateral": (-135.0, -45.0)}
#: The page counts the lateral view's rotation from the true lateral: page = lao_deg + this.
LATERAL_ROTATION_ZERO_DEG = 90.0
CRANIAL_RANGE_DEG = (-40.0, 40.0)


def check_view(value) -> str:
    """``"ap"`` or ``"lateral"``, or a ValueError saying so."""
    if not isinstance(value, str) or value not in CARM_VIEWS:
        raise ValueError(f"view must be 'ap' or 'lateral', got {shown(value)}")
    return value


def page_rotation_deg(view: str, carm: CArm) -> float:
    """The rotation the page shows for ``view``: AP as it is, lateral from the true lateral."""
    return carm.lao_deg + (LATERAL_ROTATION_ZERO_DEG if view == "lateral" else 0.0)


def turned(view: str, carm: CArm, lao_deg: float | None = None, cranial_deg: float | None = None) -> CArm:
    """``carm`` turned to ``lao_deg`` and ``cranial_deg`` (an angle left out keeps its value).

    AP ``lao_deg`` -45 to 45, lateral -135 to -45 (-90 is the true lateral), ``cranial_deg``
    -40 to 40; a lateral angle out of range is reported as the page shows it, counted from the
    true lateral (``lao_deg + 90``, -45 to 45).
    """
    view = check_view(view)
    if lao_deg is None:
        lao = carm.lao_deg
    elif view == "lateral":
        lao = number_in("lao_deg", lao_deg, *VIEW_LAO_RANGE_DEG[view], "degrees from the true lateral",
                        words="the lateral rotation", shift=LATERAL_ROTATION_ZERO_DEG)
    else:
        lao = number_in("lao_deg", lao_deg, *VIEW_LAO_RANGE_DEG[view], "deg", words="the AP rotation")
    tilt = carm.cranial_deg if cranial_deg is None else number_in("cranial_deg", cranial_deg,
                                                                  *CRANIAL_RANGE_DEG, "deg")
    if (lao, tilt) == (carm.lao_deg, carm.cranial_deg):
        return carm
    return dataclasses.replace(carm, lao_deg=lao, cranial_deg=tilt)
