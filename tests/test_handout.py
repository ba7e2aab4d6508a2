"""The take-home sheet: its words file, its plain language, the PDF it writes (text, fonts,
pictures, paper, tags), the ``vp3d handout`` command and the ``/handout.pdf`` route.

The PDFs are real (WeasyPrint), read back with pypdf and pypdfium2; the pictures are made once
per module in a temporary cache folder (about 20 s each on two cores).
"""

from __future__ import annotations

import io
import itertools
from pathlib import Path

import numpy as np
import pypdf
import pypdfium2 as pdfium
import pytest
from fontTools.ttLib import TTFont
from PIL import Image

from vp3d.checks import GRADES, KINDS, PROCEDURES
from vp3d.cli import main
from vp3d.handout.layout import BODY_PT
from vp3d.handout.options import LANGUAGES
from vp3d.handout.pdf import SheetChoice, handout_pdf
from vp3d.handout.pictures import CACHE_ENV, spine_picture
from vp3d.handout.text import HANDOUT_FILE, HandoutError, load_handout, sheet_text

from tests import aio

#: Page sizes in PDF points (1/72 in): ISO A4 210 x 297 mm, US Letter 8.5 x 11 in.
PAPER_PT = {"a4": (595.28, 841.89), "letter": (612.0, 792.0)}
#: A lumbar level in English on A4, a thoracic one in Spanish on Letter.
CASES = {
    "lumbar-en": SheetChoice("L2", 2, "wedge", "vertebroplasty", "en", "a4"),
    "thoracic-es": SheetChoice("T8", 3, "crush", "kyphoplasty", "es", "letter"),
}
EXPECTED_TEXT = {
    "lumbar-en": ("L2", "second lumbar vertebra", "Grade 2", "moderate", "wedge", "vertebroplasty",
                  "Warning signs", "Phone:"),
    "thoracic-es": ("T8", "octava vértebra torácica", "Grado 3", "grave", "aplastamiento", "cifoplastia",
                    "Señales de alarma", "Teléfono:", "¿Funciona?"),
}


@pytest.fixture(scope="module")
def cache_root(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("vp3d-cache")


@pytest.fixture(scope="module")
def sheets(cache_root) -> dict[str, bytes]:
    """The two sheets as PDF bytes, pictures made in a fresh cache folder."""
    return {name: handout_pdf(choice, cache_root / "handout") for name, choice in CASES.items()}


def _text(data: bytes) -> str:
    return "\n".join(page.extract_text() for page in pypdf.PdfReader(io.BytesIO(data)).pages)


# ----------------------------------------------------------------------------- the words


def test_words_file_loads_with_every_language_and_choice():
    spec = load_handout()
    for lang in LANGUAGES:
        words = getattr(spec, lang)
        assert set(words.grades) == set(GRADES) and set(words.kinds) == set(KINDS)
        assert set(words.procedures) == set(PROCEDURES)


def _broken_copy(tmp_path: Path, old: str, new: str) -> Path:
    text = HANDOUT_FILE.read_text(encoding="utf-8")
    assert old in text, old
    path = tmp_path / "handout.yaml"
    path.write_text(text.replace(old, new, 1), encoding="utf-8")
    return path


@pytest.mark.parametrize("old, new, words", [
    # A missing translation: the Spanish section loses its evidence closing line.
    ('  evidence_close: "Su médico', '  evidence_closing: "Su médico', ("language 'es'", "evidence_clos")),
    ("es:\n  language: Español", "fr:\n  language: Español", ("language 'es'", "missing language section")),
    ('["Genant et al., J Bone Miner Res 1993"]', '["Genant 1993"]', ("language 'en'", "unknown source")),
    ("    biconcave:\n      - text: \"It is", "    burst:\n      - text: \"It is", ("language 'en'", "missing fracture type 'biconcave'")),
    ('title: "Your take-home sheet: {procedure} of {level}"', 'title: "Sheet for {patient}"',
     ("language 'en'", "title", "unknown field {patient}")),
    # A fact cited to a document that does not state it (kyphoplasty is in 001 only).
    ("          sources: [001_94d054b7c9314373.txt]\n          facts: [kyphoplasty]",
     "          sources: [002_d69a0bc012a0d9ed.txt]\n          facts: [kyphoplasty]", ("fact 'kyphoplasty'",)),
])
def test_a_broken_words_file_is_refused_in_one_line(tmp_path, old, new, words):
    with pytest.raises(HandoutError) as info:
        load_handout(_broken_copy(tmp_path, old, new))
    message = str(info.value)
    assert "\n" not in message and message.startswith("handout.yaml: ")
    for word in words:
        assert word in message, message


def test_every_sentence_cites_a_source_in_every_language():
    """Each printed sentence carries source numbers, and the numbers point into the list."""
    for lang, procedure in itertools.product(LANGUAGES, PROCEDURES):
        text = sheet_text("L1", 2, "wedge", procedure, lang)
        cited = [*text.what, *text.fracture, *text.steps, *text.afterwards, *text.risk,
                 *text.warning_signs, *text.evidence]
        numbers = {s.number for s in text.sources}
        assert numbers == set(range(1, len(text.sources) + 1))
        for sentence in cited:
            assert sentence.refs and set(sentence.refs) <= numbers, sentence


def test_plain_language_in_both_languages_for_every_choice():
    """English at Flesch-Kincaid grade 8 or below; Spanish 'fairly easy' or easier on the
    Fernandez Huerta scale (70 or more; 60-70 is 'normal'), for every procedure, grade and type."""
    import textstat

    try:
        for procedure, grade, kind in itertools.product(PROCEDURES, GRADES, KINDS):
            textstat.set_lang("en")
            english = sheet_text("L2", grade, kind, procedure, "en").reading_text()
            assert textstat.flesch_kincaid_grade(english) <= 8.0, (procedure, grade, kind)
            textstat.set_lang("es")
            spanish = sheet_text("L2", grade, kind, procedure, "es").reading_text()
            assert textstat.fernandez_huerta(spanish) >= 70.0, (procedure, grade, kind)
            assert textstat.szigriszt_pazos(spanish) >= 65.0, (procedure, grade, kind)
    finally:
        textstat.set_lang("en")


# ----------------------------------------------------------------------------- the PDF


@pytest.mark.parametrize("name", CASES)
def test_sheet_names_the_level_grade_and_procedure_in_its_language(sheets, name):
    data = sheets[name]
    assert data.startswith(b"%PDF-")
    reader = pypdf.PdfReader(io.BytesIO(data))
    assert 2 <= len(reader.pages) <= 4
    text = " ".join(_text(data).split())
    for words in EXPECTED_TEXT[name]:
        assert words in text, f"{words!r} missing from the {name} sheet"
    root = reader.trailer["/Root"]
    assert root["/Lang"] == CASES[name].lang  # a screen reader speaks the sheet's language
    assert "/StructTreeRoot" in root and root["/MarkInfo"]["/Marked"]  # a tagged PDF
    assert CASES[name].level in reader.metadata.title


@pytest.mark.parametrize("name", CASES)
def test_sheet_is_on_the_paper_asked_for(sheets, name):
    width, height = PAPER_PT[CASES[name].paper]
    for page in pypdf.PdfReader(io.BytesIO(sheets[name])).pages:
        assert float(page.mediabox.width) == pytest.approx(width, abs=0.5)
        assert float(page.mediabox.height) == pytest.approx(height, abs=0.5)


@pytest.mark.parametrize("name", CASES)
def test_every_character_is_in_an_embedded_font(sheets, name):
    """No missing glyphs: the fonts are embedded, and every character of the text (accents,
    ñ and ¿ included) maps to a real glyph of an embedded font."""
    reader = pypdf.PdfReader(io.BytesIO(sheets[name]))
    covered: set[int] = set()
    for page in reader.pages:
        for font in page["/Resources"]["/Font"].values():
            font = font.get_object()
            descendant = font["/DescendantFonts"][0].get_object() if "/DescendantFonts" in font else font
            file = descendant["/FontDescriptor"].get_object().get("/FontFile2")
            assert file is not None, f"font {font.get('/BaseFont')} is not embedded"
            ttf = TTFont(io.BytesIO(file.get_object().get_data()))
            glyphs = set(ttf.getGlyphOrder())
            covered |= {code for code, glyph in ttf.getBestCmap().items() if glyph in glyphs and glyph != ".notdef"}
    used = {ord(c) for c in _text(sheets[name]) if not c.isspace()}
    missing = sorted(chr(c) for c in used - covered)
    assert not missing, f"characters with no glyph in the embedded fonts: {missing}"
    if CASES[name].lang == "es":
        assert {ord(c) for c in "áéíóúñ¿"} <= used  # the Spanish characters were really used


@pytest.mark.parametrize("name", CASES)
def test_body_text_is_at_least_12_points(sheets, name):
    """Every letter a reader needs is 12 pt or larger; smaller type is only the page footer,
    the numbered source list and its one-line note."""
    choice = CASES[name]
    words = sheet_text(choice.level, choice.grade, choice.kind, choice.procedure, choice.lang)
    allowed = set(" ".join([words.footer, words.sources_intro, *(s.citation for s in words.sources)]).split())
    pdf = pdfium.PdfDocument(sheets[name])
    large = 0
    for page in pdf:
        textpage = page.get_textpage()
        small_words, current = [], ""
        for i in range(textpage.count_chars()):
            char = chr(pdfium.raw.FPDFText_GetUnicode(textpage, i))
            size = pdfium.raw.FPDFText_GetFontSize(textpage, i)
            if char.isalpha() and size >= 11.9:
                large += 1
            if size < 11.9 and not char.isspace():
                current += char
            elif current:
                small_words.append(current)
                current = ""
        small_words += [current] if current else []
        for word in small_words:
            if any(c.isalpha() for c in word):
                assert word in allowed or any(word in a for a in allowed), f"small type outside the sources: {word!r}"
    assert large > 2000  # the body is there, and large
    assert BODY_PT >= 12


@pytest.mark.parametrize("name", CASES)
def test_pictures_are_in_the_sheet_and_not_blank(sheets, name):
    page = pypdf.PdfReader(io.BytesIO(sheets[name])).pages[0]
    images = [np.asarray(Image.open(io.BytesIO(im.data)).convert("L"), dtype=float) for im in page.images]
    assert len(images) == 2, "the spine and the X-ray, both on the first page"
    spine, xray = sorted(images, key=lambda a: a.shape[0] / a.shape[1], reverse=True)  # the spine is tall
    for picture in (spine, xray):
        assert picture.std() > 25, "a picture, not a blank"
    assert (spine > 240).mean() > 0.3 and (spine < 120).mean() > 0.003  # white paper, a dark level
    # The X-ray: the circular field with mid-grey bone, and the needles and cement dark in it.
    centre = xray[xray.shape[0] // 4: 3 * xray.shape[0] // 4, xray.shape[1] // 4: 3 * xray.shape[1] // 4]
    assert (centre < 60).mean() > 0.01 and (centre > 100).mean() > 0.3


def test_the_level_stands_out_in_black_and_white(tmp_path):
    """Two spine pictures differing only in the level shown: in grey, the level is much darker."""
    l2 = np.asarray(Image.open(spine_picture("L2", tmp_path / "l2.png")).convert("L"), dtype=float)
    t8 = np.asarray(Image.open(spine_picture("T8", tmp_path / "t8.png")).convert("L"), dtype=float)
    darker_at_l2 = (t8 - l2) > 80
    darker_at_t8 = (l2 - t8) > 80
    assert darker_at_l2.sum() > 3000 and darker_at_t8.sum() > 3000
    rows_l2, rows_t8 = np.nonzero(darker_at_l2)[0], np.nonzero(darker_at_t8)[0]
    assert np.median(rows_t8) < np.median(rows_l2)  # T8 above L2, as on the patient


def test_pictures_are_cached_per_choice(cache_root, sheets):
    folder = cache_root / "handout"
    names = sorted(p.name for p in folder.glob("*.png"))
    assert len([n for n in names if n.startswith("spine-")]) == 2
    assert any(n.startswith("xray-L2-g2-wedge-vertebroplasty-") for n in names)
    assert any(n.startswith("xray-T8-g3-crush-kyphoplasty-") for n in names)
    import time

    start = time.perf_counter()
    handout_pdf(SheetChoice("L2", 2, "wedge", "vertebroplasty", "es", "letter"), folder)
    assert time.perf_counter() - start < 10.0  # no model built again: only the layout


# ----------------------------------------------------------------------------- the command


def test_command_writes_the_sheet(tmp_path, cache_root, sheets, monkeypatch, capsys):
    monkeypatch.setenv(CACHE_ENV, str(cache_root))
    out = tmp_path / "sheet.pdf"
    assert main(["handout", "--level", "l2", "--grade", "2", "--kind", "Wedge",
                 "--procedure", "vertebroplasty", "--lang", "ES", "--paper", "letter", "--out", str(out)]) == 0
    assert capsys.readouterr().out.strip() == str(out)
    text = " ".join(_text(out.read_bytes()).split())
    assert "vertebroplastia de L2" in text and "Grado 2" in text


@pytest.mark.parametrize("args, words", [
    (["--level", "L9"], "level must be one of T5"),
    (["--level", "T2"], "level must be one of T5"),
    (["--grade", "4"], "fracture grade must be 1, 2 or 3"),
    (["--kind", "burst"], "fracture type must be one of wedge, biconcave or crush"),
    (["--procedure", "fusion"], "procedure must be one of vertebroplasty or kyphoplasty"),
    (["--lang", "fr"], "language must be one of en or es"),
    (["--paper", "a3"], "paper must be one of a4 or letter"),
    (["--out", "/no/such/folder/sheet.pdf"], "does not exist"),
    (["--out", "."], "is a folder; name a PDF file"),
    ([], "the following arguments are required: --out"),
])
def test_bad_arguments_are_one_line_and_exit_2(tmp_path, capsys, args, words):
    if "--out" not in args and words != "the following arguments are required: --out":
        args = [*args, "--out", str(tmp_path / "sheet.pdf")]
    try:
        code = main(["handout", *args])
    except SystemExit as exc:
        code = exc.code
    captured = capsys.readouterr()
    assert code == 2
    lines = captured.err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("vp3d: error: ") and words in lines[0], captured.err
    assert not (tmp_path / "sheet.pdf").exists()


# ----------------------------------------------------------------------------- the route


def test_route_answers_a_pdf_or_one_line_400(cache_root, sheets, monkeypatch):
    """A real aiohttp server with the route: good choices give an attachment, bad ones 400."""
    from aiohttp import ClientSession, web

    from vp3d.app import take_home

    monkeypatch.setenv(CACHE_ENV, str(cache_root))

    async def run() -> dict:
        app = web.Application()
        take_home.add_route(app)
        runner = web.AppRunner(app)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        port = site._server.sockets[0].getsockname()[1]
        base = f"http://127.0.0.1:{port}{take_home.ROUTE}"
        answers = {}
        try:
            async with ClientSession() as session:
                for name, query in (
                    ("good", "?level=T8&grade=3&kind=crush&procedure=kyphoplasty&lang=en&paper=a4"),
                    ("level", "?level=C3&grade=2"), ("grade", "?grade=seven"), ("lang", "?lang=de"),
                    ("paper", "?paper=tabloid"), ("unknown", "?level=L2&colour=red"),
                    ("twice", "?level=L2&level=L3"),
                ):
                    async with session.get(base + query) as response:
                        answers[name] = (response.status, dict(response.headers), await response.read())
        finally:
            await runner.cleanup()
        return answers

    answers = aio.run(run())
    status, headers, body = answers.pop("good")
    assert status == 200 and headers["Content-Type"] == "application/pdf" and body.startswith(b"%PDF-")
    assert headers["Content-Disposition"] == 'attachment; filename="vp3d-sheet-T8-kyphoplasty-en.pdf"'
    assert "kyphoplasty of T8" in " ".join(_text(body).split())
    expected = {"level": "level must be one of T5", "grade": "fracture grade must be",
                "lang": "language must be one of en or es", "paper": "paper must be one of a4 or letter",
                "unknown": "unknown parameter 'colour'", "twice": "'level' is given more than once"}
    for name, (status, _, body) in answers.items():
        text = body.decode()
        assert status == 400 and text.count("\n") == 1 and expected[name] in text, (name, text)
