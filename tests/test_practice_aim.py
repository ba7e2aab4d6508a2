"""The aim a student sets (no model): its checks name the field and range, its direction."""

from __future__ import annotations

import numpy as np
import pytest

from vp3d.practice.aim import AIM_FIELDS, AIM_RANGES, NeedleAim

GOOD = dict(side="right", entry_lateral_mm=40.0, entry_cranial_mm=10.0, medial_deg=15.0, caudal_deg=10.0)


def test_bad_aims_name_the_field_and_range():
    for field in AIM_FIELDS:
        for bad in (float("nan"), 1e9, "12", True, None, float("inf")):
            with pytest.raises(ValueError, match=field):
                NeedleAim(**{**GOOD, field: bad})
    with pytest.raises(ValueError, match=r"\(entry_lateral_mm\) must be a number between 0 and 120 mm, got -1$"):
        NeedleAim(**{**GOOD, "entry_lateral_mm": -1})
    with pytest.raises(ValueError, match=r"\(medial_deg\) must be a number between -60 and 60 degrees, got 61$"):
        NeedleAim(**{**GOOD, "medial_deg": 61})
    with pytest.raises(ValueError, match="side must be 'right' or 'left'"):
        NeedleAim(**{**GOOD, "side": "up"})
    assert set(AIM_RANGES) == set(AIM_FIELDS)


def test_direction_turns_towards_the_midline_and_caudally():
    right, left = NeedleAim(**GOOD), NeedleAim(**{**GOOD, "side": "left"})
    assert np.isclose(np.linalg.norm(right.direction), 1.0)
    assert right.direction[0] < 0 < left.direction[0]  # both towards the midline
    assert right.direction[1] > 0 and right.direction[2] < 0  # forwards and caudal
    straight = NeedleAim(**{**GOOD, "medial_deg": 0.0, "caudal_deg": 0.0})
    assert np.allclose(straight.direction, (0.0, 1.0, 0.0))
