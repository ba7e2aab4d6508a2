"""Numbers and names a student sends, checked, with refusals in words a student understands."""

from __future__ import annotations

import math
from numbers import Real

from vp3d.needle.path import SIDES

#: What each number is, in words, for messages (the field name follows in brackets).
FIELD_WORDS = {"step_mm": "the step", "entry_lateral_mm": "the skin entry's distance from the midline",
               "entry_cranial_mm": "the skin entry's height above the level's centre",
               "medial_deg": "the medial angle", "caudal_deg": "the caudal angle",
               "lao_deg": "the C-arm rotation", "cranial_deg": "the C-arm's cranial tilt",
               "ml": "the cement dose"}
_UNIT_WORDS = {"deg": "degrees"}


def shown(value) -> str:
    """A value as a student typed it: numbers without trailing zeros, anything else short."""
    if isinstance(value, Real) and not isinstance(value, bool):
        try:
            return f"{float(value):g}"
        except OverflowError:
            return "a number too large"
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


def number_in(name: str, value, low: float, high: float, unit: str, *, words: str | None = None,
              shift: float = 0.0) -> float:
    """Return ``value`` as a float, or raise ValueError naming the field, range and value.

    ``words`` says what the number is (default: from the field name); ``shift`` is added to the
    range and the value shown, for a number the page counts from another zero.
    """
    words = words or FIELD_WORDS.get(name, name)
    is_number = isinstance(value, Real) and not isinstance(value, bool)
    try:
        number = float(value) if is_number else math.nan
    except OverflowError:  # an integer too large for a float
        number = math.inf
    if not (math.isfinite(number) and low <= number <= high):
        got = shown(number + shift) if is_number and math.isfinite(number) else shown(value)
        raise ValueError(f"{words} ({name}) must be a number between {low + shift:g} and {high + shift:g} "
                         f"{_UNIT_WORDS.get(unit, unit)}, got {got}")
    return number


def check_side(value) -> str:
    """``"right"`` or ``"left"``, or a ValueError saying so."""
    if not isinstance(value, str) or value not in SIDES:
        raise ValueError(f"side must be 'right' or 'left', got {shown(value)}")
    return value
