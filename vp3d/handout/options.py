"""The sheet's own choices, a language and a paper size, checked by the project's one checker.

Plain Python (no numpy, no PDF library): the command line checks its options with these before
loading anything heavy.
"""

from __future__ import annotations

from typing import Any

from vp3d.checks import check_option

#: The sheet's languages; each is a section of ``scenes/handout.yaml`` with the same keys.
LANGUAGES: tuple[str, ...] = ("en", "es")
#: Paper sizes: ISO A4 (210 x 297 mm) and US Letter (8.5 x 11 in).
PAPERS: tuple[str, ...] = ("a4", "letter")


def check_sheet_language(value: Any) -> str:
    """A language the sheet is written in: ``en`` or ``es``, whatever its case."""
    return check_option("language", value, LANGUAGES)


def check_paper(value: Any) -> str:
    """A paper size: ``a4`` or ``letter``, whatever its case."""
    return check_option("paper", value, PAPERS)
