"""The page's words in each language: a complete, current gettext catalogue, one translator
per language, and link parameters that name a bad language and speak the one asked for."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from vp3d.app import page_text, story
from vp3d.checks import ChoiceError, check_lang
from vp3d.i18n import LANGUAGES, LOCALE_DIR, gettext_for, translator

ROOT = Path(__file__).resolve().parents[1]


def test_catalogue_matches_the_code_and_every_message_is_translated():
    """scripts/i18n.py --check extracts the marked strings with Babel and compares them with
    messages.pot, each .po (every msgid translated, none fuzzy) and each compiled .mo."""
    pytest.importorskip("babel")
    r = subprocess.run([sys.executable, "scripts/i18n.py", "--check"], cwd=ROOT, capture_output=True,
                       text=True, timeout=120)
    assert r.returncode == 0, r.stderr


def test_the_check_catches_an_untranslated_message(tmp_path, monkeypatch):
    pytest.importorskip("babel")
    sys.path.insert(0, str(ROOT / "scripts"))
    try:
        import i18n as tool
    finally:
        sys.path.remove(str(ROOT / "scripts"))
    import shutil

    locale = tmp_path / "locale"
    shutil.copytree(LOCALE_DIR, locale)
    po = locale / "es" / "LC_MESSAGES" / "messages.po"
    po.write_text(po.read_text(encoding="utf-8").replace('msgstr "Paso anterior"', 'msgstr ""'), encoding="utf-8")
    monkeypatch.setattr(tool, "LOCALE", locale)
    monkeypatch.setattr(tool, "POT", locale / "messages.pot")
    found = tool.problems()
    assert any("no translation of ['Previous step']" in line for line in found), found
    assert any(".mo is not compiled from its .po" in line for line in found), found


def test_every_page_string_has_spanish_words():
    english, spanish = page_text.page_strings("en"), page_text.page_strings("es")
    assert english.keys() == spanish.keys()
    assert english == page_text.PAGE_TEXT
    for key in english:
        assert spanish[key] != english[key], key
    assert spanish["previous"] == "Paso anterior" and spanish["step_of"] == "Paso %(n)s de %(total)s"
    options = page_text.choice_options("es", story.story_levels())
    assert [o["title"] for o in options["procedure_options"]] == ["Vertebroplastia", "Cifoplastia"]
    assert options["level_options"][-1]["title"] == "L5 (5.\u00aa lumbar)"
    assert [o["value"] for o in options["lang_options"]] == list(LANGUAGES)


def test_numbers_in_the_language():
    assert page_text.decimal(3.25, "en") == "3.2" and page_text.decimal(3.0, "es") == "3,0"


def test_translators():
    assert translator("en").gettext("Play") == "Play"
    assert gettext_for("es")("Play") == "Reproducir"
    with pytest.raises(ValueError, match="language must be one of en, es, got 'fr'"):
        translator("fr")


def test_check_lang():
    assert check_lang(" ES ") == "es" and check_lang("en") == "en"
    with pytest.raises(ChoiceError, match=r"^language must be one of en or es, got 'de'$"):
        check_lang("de")


def test_link_language_and_its_messages():
    default = story.ViewChoice()
    request = story.parse_query("?lang=es&level=L9&colour=red", default)
    assert request.choice.lang == "es" and request.choice.level == "L1"
    assert request.messages[0].startswith("Enlace: se ignor\u00f3 'colour'; esta p\u00e1gina lee level,")
    assert request.messages[1].startswith("Enlace: level must be one of T5\u2013L5")
    assert request.messages[1].endswith("; se muestra L1.")
    bad = story.parse_query("?lang=fr", default)
    assert bad.choice.lang == "en"
    assert bad.messages == ["Link: language must be one of en or es, got 'fr'; showing English."]


def test_language_and_audience_are_separate_choices():
    patient = story.ViewChoice(lang="es")
    student = story.ViewChoice(audience="student", lang="es")
    kiosk = story.ViewChoice(audience="kiosk", lang="es")
    assert patient.narration_lang == kiosk.narration_lang == "es" and student.narration_lang == "en"
    assert story.scene_of(patient).language == "es" and story.scene_of(student).language == "en"
    assert story.context_for(patient)["level_name"] == "primera v\u00e9rtebra lumbar"
    assert story.context_for(student)["level_name"] == "first lumbar vertebra"
    text = story.step_text(story.scene_of(kiosk).step("healthy_spine"), "kiosk", story.context_for(kiosk))
    assert text["title"] == "Su columna" and "primera v\u00e9rtebra lumbar" in text["sentences"][2]["text"]
    assert text["sources"][0]["name"] == "002_d69a0bc012a0d9ed.txt"  # the same citations
