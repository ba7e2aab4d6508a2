"""The sheet's own choice, a paper size, checked by the project's one checker (its language is
the page's: :func:`vp3d.checks.check_lang`).

Plain Python (no numpy, no PDF library): the command line checks its options with these before
loading anything heavy.
"""

from __future__ import annotations

from typing import Any

from vp3d.checks import check_option
from vp3d.i18n import LANGUAGES as PAGE_LANGUAGES

#: The sheet's languages, the page's; each is a section of ``scenes/handout.yaml``.
LANGUAGES: tuple[str, ...] = tuple(PAGE_LANGUAGES)
#: Paper sizes: ISO A4 (210 x 297 mm) and US Letter (8.5 x 11 in).
PAPERS: tuple[str, ...] = ("a4", "letter")


def check_paper(value: Any) -> str:
    """A paper size: ``a4`` or ``letter``, whatever its case."""
    return check_option("paper", value, PAPERS)
