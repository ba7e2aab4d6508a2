"""Vertebral levels: the ones the model covers, the ones the procedure is offered on (and why),
and their names in words. Plain data and naming, no checks (those are in :mod:`vp3d.checks`).
"""

from __future__ import annotations

#: Levels the model covers, cranial to caudal.
LEVELS: tuple[str, ...] = tuple([f"T{i}" for i in range(1, 13)] + [f"L{i}" for i in range(1, 6)])

#: Levels the procedure (story, practice, radiographs) is offered on: vertebroplasty is done
#: from T5 down, and the upper thoracic pedicles are too small for the needles modelled.
PROCEDURE_LEVELS: tuple[str, ...] = LEVELS[LEVELS.index("T5"):]
#: Why :data:`PROCEDURE_LEVELS` stops short of the model's range, for messages.
PROCEDURE_LEVELS_REASON = ("the procedure is modelled from T5 down: the upper thoracic pedicles "
                           "are too small for the needles")

REGIONS = {"C": "cervical", "T": "thoracic", "L": "lumbar", "S": "sacral"}
#: Spanish region adjectives (feminine, as "vértebra" is).
REGIONS_ES = {"C": "cervical", "T": "tor\u00e1cica", "L": "lumbar", "S": "sacra"}
#: Spanish ordinals, feminine (agreeing with "vértebra").
_ORDINAL_WORDS_ES = ("primera", "segunda", "tercera", "cuarta", "quinta", "sexta", "s\u00e9ptima",
                     "octava", "novena", "d\u00e9cima", "und\u00e9cima", "duod\u00e9cima")
_ORDINAL_WORDS = ("first", "second", "third", "fourth", "fifth", "sixth", "seventh", "eighth",
                  "ninth", "tenth", "eleventh", "twelfth")


def span(levels) -> str:
    """A run of levels in words: ``("T5", ..., "L5")`` -> ``"T5–L5"``."""
    return f"{levels[0]}\u2013{levels[-1]}" if len(levels) > 1 else str(levels[0])


def region(level: str) -> str:
    """``"T12"`` -> ``"thoracic"``."""
    return REGIONS[level[0]]


def ordinal_number(number: int) -> str:
    """``1`` -> ``"1st"``, ``12`` -> ``"12th"``."""
    suffix = "th" if 10 <= number % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(number % 10, "th")
    return f"{number}{suffix}"


def level_in_words(level: str, language: str = "en") -> str:
    """``"L1"`` -> ``"first lumbar vertebra"`` (``es``: ``"primera vértebra lumbar"``), as the
    narration says it."""
    n = int(level[1:])
    if language == "es":
        return f"{_ORDINAL_WORDS_ES[n - 1]} v\u00e9rtebra {REGIONS_ES[level[0]]}"
    return f"{_ORDINAL_WORDS[n - 1]} {region(level)} vertebra"


def describe_level(level: str, language: str = "en") -> str:
    """``"L1"`` -> ``"1st lumbar vertebra"`` (``es``: ``"1.ª vértebra lumbar"``), as the page
    lists it (other text unchanged)."""
    if len(level) < 2 or level[0] not in REGIONS or not level[1:].isdigit():
        return level
    if language == "es":
        return f"{int(level[1:])}.\u00aa v\u00e9rtebra {REGIONS_ES[level[0]]}"
    return f"{ordinal_number(int(level[1:]))} {region(level)} vertebra"
