"""Narration text as a speech engine should read it, per language: ranges, units and acronyms
spelled out, so neither espeak-ng nor piper reads "1–3 %" as "one three" or "mL" as a word.

Engine code: standard library only, no UI.
"""

from __future__ import annotations

import re

#: Per language: (pattern, replacement) applied in order.
_RULES: dict[str, tuple[tuple[re.Pattern, str], ...]] = {
    "en": (
        (re.compile(r"(\d)\s*[\u2013-]\s*(\d)"), r"\1 to \2"),  # 1–3 -> 1 to 3
        (re.compile(r"(\d+)-(?=\s|gauge)"), r"\1 "),            # 11- or 13-gauge
        (re.compile(r"\s*%"), " percent"),
        (re.compile(r"\bmL\b"), "millilitres"),
        (re.compile(r"\bPMMA\b"), "P M M A"),
        (re.compile(r"\bAP\b"), "A P"),
        (re.compile(r"\bMRI\b"), "M R I"),
        (re.compile(r"\bURMC\b"), "U R M C"),
        (re.compile(r"\bUS\b"), "U S"),
    ),
    "es": (
        (re.compile(r"(\d)\s*[\u2013-]\s*(\d)"), r"\1 a \2"),   # 1–3 -> 1 a 3
        (re.compile(r"\s*%"), " por ciento"),
        (re.compile(r"\bmL\b"), "mililitros"),
        (re.compile(r"\bPMMA\b"), "P M M A"),
        (re.compile(r"\bAP\b"), "A P"),
        (re.compile(r"\bRM\b"), "R M"),
    ),
}

LANGUAGES = tuple(_RULES)


def speakable(text: str, lang: str = "en") -> str:
    """``text`` as a speech engine should read it in ``lang`` (``en`` or ``es``)."""
    if lang not in _RULES:
        raise ValueError(f"unknown narration language {lang!r}: {' or '.join(LANGUAGES)}")
    out = " ".join(text.split())
    for pattern, repl in _RULES[lang]:
        out = pattern.sub(repl, out)
    return " ".join(out.split())
