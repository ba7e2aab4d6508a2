"""One checker for the values people choose: a vertebral level, a fracture grade and type, the
procedure, the audience, the bone quality. The command line, the page's link parameters and the
engine's choices all check with these, so a value means the same everywhere: options are read
without regard to case or surrounding spaces, and a bad value raises :class:`ChoiceError` (a
``ValueError``) whose one-line message lists the valid values in plain words, e.g. ``fracture
type must be one of wedge, biconcave or crush, got 'burst'``.

Plain Python, no numpy: the command line checks its options before loading anything heavy.
"""

from __future__ import annotations

import math
import numbers
from typing import Any

from vp3d.i18n import LANGUAGES
from vp3d.levels import LEVELS, PROCEDURE_LEVELS, PROCEDURE_LEVELS_REASON, span

#: Genant grades: 1 mild, 2 moderate, 3 severe.
GRADES: tuple[int, ...] = (1, 2, 3)
#: Fracture types (vp3d.pathology.fracture).
KINDS: tuple[str, ...] = ("wedge", "biconcave", "crush")
PROCEDURES: tuple[str, ...] = ("vertebroplasty", "kyphoplasty")
#: Who the page speaks to: the two narration audiences and the outreach kiosk (patient words).
AUDIENCE_MODES: tuple[str, ...] = ("patient", "student", "kiosk")
BONE_QUALITIES: tuple[str, ...] = ("normal", "osteoporotic")
#: Characters of a bad value repeated in a message.
MAX_SHOWN = 60


class ChoiceError(ValueError):
    """A value that is not one of the valid choices; the message is one line."""


def in_words(values, last: str = "or") -> str:
    """``("a", "b", "c")`` -> ``"a, b or c"``."""
    items = [str(v) for v in values]
    return items[0] if len(items) == 1 else f"{', '.join(items[:-1])} {last} {items[-1]}"


def shown(value: Any) -> str:
    """``repr(value)`` cut to :data:`MAX_SHOWN` characters, to quote what was sent."""
    text = repr(value)
    return text if len(text) <= MAX_SHOWN else text[: MAX_SHOWN - 1] + "\u2026"


def _scalar_text(label: str, value: Any, valid: str) -> str:
    """``value`` as stripped text; containers, ``None`` and booleans are refused."""
    if value is None or isinstance(value, (bool, list, tuple, dict, set)):
        raise ChoiceError(f"{label} must be one of {valid}, got {shown(value)}")
    return str(value).strip()


def check_option(label: str, value: Any, options) -> str:
    """``value`` as the option of ``options`` it names, whatever its case; else :class:`ChoiceError`."""
    valid = in_words(options)
    text = _scalar_text(label, value, valid).lower()
    for option in options:
        if text == option.lower():
            return option
    raise ChoiceError(f"{label} must be one of {valid}, got {shown(value)}")


def check_kind(value: Any) -> str:
    """A fracture type: wedge, biconcave or crush."""
    return check_option("fracture type", value, KINDS)


def check_procedure(value: Any) -> str:
    """Vertebroplasty or kyphoplasty."""
    return check_option("procedure", value, PROCEDURES)


def check_audience(value: Any) -> str:
    """Patient, student or kiosk."""
    return check_option("audience", value, AUDIENCE_MODES)


def check_bone_quality(value: Any) -> str:
    """Normal or osteoporotic bone."""
    return check_option("bone quality", value, BONE_QUALITIES)


def check_grade(value: Any) -> int:
    """A Genant grade 1, 2 or 3, given as a whole number or as text (``"2"``, ``2.0``)."""
    problem = ChoiceError(f"fracture grade must be {in_words(GRADES)}, got {shown(value)}")
    if isinstance(value, bool) or not isinstance(value, (numbers.Real, str)):
        raise problem
    try:
        number = float(value)
    except ValueError:
        raise problem from None
    if not math.isfinite(number) or number not in GRADES:
        raise problem
    return int(number)


def check_level(value: Any, levels=LEVELS, reason: str = "") -> str:
    """``value`` as a level of ``levels`` (``"l1"`` -> ``"L1"``); the message states ``reason``
    when ``levels`` is narrower than the model's range."""
    valid = span(levels) + (f" ({reason})" if reason else "")
    name = _scalar_text("level", value, valid).upper()
    if name not in levels:
        raise ChoiceError(f"level must be one of {valid}, got {shown(value)}")
    return name


def check_procedure_level(value: Any) -> str:
    """A level the procedure is offered on (:data:`vp3d.levels.PROCEDURE_LEVELS`), saying why
    the upper thoracic levels are not."""
    return check_level(value, PROCEDURE_LEVELS, PROCEDURE_LEVELS_REASON)


def level_range(top: Any, bottom: Any) -> list[str]:
    """Levels from ``top`` to ``bottom`` inclusive, cranial to caudal."""
    t, b = LEVELS.index(check_level(top)), LEVELS.index(check_level(bottom))
    if t > b:
        raise ChoiceError(f"top level {top!r} must be cranial to (above) bottom level {bottom!r}")
    return list(LEVELS[t: b + 1])


def check_lang(value: Any) -> str:
    """A language the page speaks: ``en`` or ``es`` (:data:`vp3d.i18n.LANGUAGES`)."""
    return check_option("language", value, tuple(LANGUAGES))
