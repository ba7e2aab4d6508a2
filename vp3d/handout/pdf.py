"""The take-home sheet as a PDF, written by WeasyPrint from the sheet's HTML.

WeasyPrint lays out flowing text, lists and figures from HTML and CSS, embeds the fonts as
subsets (DejaVu Sans here: every Spanish letter and sign), keeps text as text, and writes a
tagged PDF (headings, paragraphs, lists, figures with their alternative text, the document's
language), so a screen reader reads the sheet in order.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

from vp3d.checks import check_grade, check_kind, check_procedure, check_procedure_level
from vp3d.handout.layout import sheet_html
from vp3d.checks import check_lang
from vp3d.handout.options import check_paper
from vp3d.handout.pictures import sheet_pictures
from vp3d.handout.text import sheet_text


@dataclass(frozen=True)
class SheetChoice:
    """What one sheet is for, each field checked by :mod:`vp3d.checks` as it is built."""

    level: str = "L1"
    grade: int = 2
    kind: str = "wedge"
    procedure: str = "vertebroplasty"
    lang: str = "en"
    paper: str = "a4"

    def __post_init__(self):
        for name, check in (("level", check_procedure_level), ("grade", check_grade), ("kind", check_kind),
                            ("procedure", check_procedure), ("lang", check_lang),
                            ("paper", check_paper)):
            object.__setattr__(self, name, check(getattr(self, name)))

    def file_name(self) -> str:
        """A download name: ``vp3d-sheet-L2-vertebroplasty-en.pdf``."""
        return f"vp3d-sheet-{self.level}-{self.procedure}-{self.lang}.pdf"


def handout_pdf(choice: SheetChoice, pictures_folder: Path | None = None) -> bytes:
    """The sheet for ``choice`` as PDF bytes (pictures made once per choice, then cached)."""
    from weasyprint import HTML

    logging.getLogger("weasyprint").setLevel(logging.ERROR)
    logging.getLogger("fontTools").setLevel(logging.ERROR)
    text = sheet_text(choice.level, choice.grade, choice.kind, choice.procedure, choice.lang)
    pictures = sheet_pictures(choice.level, choice.grade, choice.kind, choice.procedure, pictures_folder)
    html = sheet_html(text, pictures.spine_png, pictures.xray_png, choice.paper)
    return HTML(string=html, base_url=str(pictures.spine_png.parent)).write_pdf(
        pdf_tags=True, custom_metadata=False, pdf_identifier=False)


def write_handout(choice: SheetChoice, out: str | Path) -> Path:
    """Write the sheet for ``choice`` to ``out`` and return its path."""
    data = handout_pdf(choice)
    out = Path(out)
    out.write_bytes(data)
    return out
