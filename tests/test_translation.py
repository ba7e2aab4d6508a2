"""The Spanish patient story: the same steps and sources as the English, every sentence
translated, plain reading, and a strict loader that refuses a missing or extra translation."""

from __future__ import annotations

import shutil
import warnings

import pytest
import yaml

from vp3d.levels import describe_level, level_in_words
from vp3d.storyboard import (
    SCENES_DIR,
    SceneError,
    load_named_scene,
    load_scene,
    narration_context,
    narration_text,
    render_narration,
    render_title,
)

PROCEDURES = ("vertebroplasty", "kyphoplasty")
CONTEXTS = [("T8", 3, "crush"), ("L4", 2, "wedge"), ("T5", 1, "biconcave"), ("L1", 2, "wedge")]


@pytest.fixture(scope="module")
def pairs():
    return {p: (load_named_scene(p), load_named_scene(p, language="es")) for p in PROCEDURES}


def test_spanish_scene_has_the_english_steps_sentences_and_sources(pairs):
    for name, (en, es) in pairs.items():
        assert es.language == "es" and en.language == "en"
        assert es.ids == en.ids and [s.topic for s in es.steps] == [s.topic for s in en.steps]
        assert es.title["patient"] != en.title["patient"] and es.title["student"] == en.title["student"]
        for a, b in zip(en.steps, es.steps):
            assert len(b.narration["patient"]) == len(a.narration["patient"]) > 0, (name, a.id)
            for x, y in zip(a.narration["patient"], b.narration["patient"]):
                assert (y.sources, y.facts) == (x.sources, x.facts), (name, a.id)
                assert y.text != x.text, (name, a.id, x.text)  # translated, not copied
            assert b.narration["student"] == a.narration["student"], (name, a.id)  # students: English
            assert b.title["student"] == a.title["student"]
            assert b.title["patient"] != a.title["patient"], (name, a.id)
            assert (b.camera, b.visible, b.state, b.animate, b.fluoro) == (
                a.camera, a.visible, a.state, a.animate, a.fluoro)


@pytest.mark.parametrize("level,grade,kind", CONTEXTS)
def test_spanish_fields_are_spanish_words(pairs, level, grade, kind):
    context = narration_context(level, grade, kind, language="es")
    for _, es in pairs.values():
        for step in es.steps:
            text = narration_text(step, "kiosk", context) + " " + render_title(step, "patient", context)
            for english in ("vertebra ", "lumbar vertebra", "thoracic", " back", "moderate", "severe",
                            "mild", "about ", "vertebroplasty", "kyphoplasty", "wedge"):
                assert english not in text, (step.id, english, text)
    fracture = " ".join(s.text for s in render_narration(pairs["vertebroplasty"][1].step("fracture"), "patient", context))
    assert level_in_words(level, "es") in fracture
    assert {1: "leve", 2: "moderada", 3: "grave"}[grade] in fracture


def test_levels_in_spanish():
    assert level_in_words("L1", "es") == "primera v\u00e9rtebra lumbar"
    assert level_in_words("T12", "es") == "duod\u00e9cima v\u00e9rtebra tor\u00e1cica"
    assert describe_level("T7", "es") == "7.\u00aa v\u00e9rtebra tor\u00e1cica"
    assert level_in_words("L1") == "first lumbar vertebra"  # English unchanged


def _ease(text: str, language: str) -> float:
    textstat = pytest.importorskip("textstat")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        textstat.set_lang(language)
        try:
            return textstat.fernandez_huerta(text) if language == "es" else textstat.flesch_reading_ease(text)
        finally:
            textstat.set_lang("en")


@pytest.mark.parametrize("level,grade,kind", CONTEXTS)
def test_spanish_patient_text_reads_as_easily_as_the_english(pairs, level, grade, kind):
    """Fernández-Huerta (Flesch's ease refitted to Spanish, the same 0-100 bands): each step
    at least 70 ("fairly easy", school year 7, within the English text's grade 8 limit), and
    the whole story within 10 points of the English story's Flesch reading ease."""
    en_context, es_context = narration_context(level, grade, kind), narration_context(level, grade, kind, language="es")
    for en, es in pairs.values():
        for step in es.steps:
            ease = _ease(narration_text(step, "patient", es_context), "es")
            assert ease >= 70, (es.name, step.id, ease)
        whole_es = _ease(" ".join(narration_text(s, "patient", es_context) for s in es.steps), "es")
        whole_en = _ease(" ".join(narration_text(s, "patient", en_context) for s in en.steps), "en")
        assert whole_es >= whole_en - 10, (es.name, whole_es, whole_en)


# ------------------------------------------------------------------ the strict loader


@pytest.fixture()
def scenes_copy(tmp_path):
    folder = tmp_path / "scenes"
    shutil.copytree(SCENES_DIR, folder)
    return folder


def _edit(path, change):
    doc = yaml.safe_load(path.read_text(encoding="utf-8"))
    change(doc)
    path.write_text(yaml.safe_dump(doc, allow_unicode=True, sort_keys=False), encoding="utf-8")


def _refused(folder, pattern):
    with pytest.raises(SceneError, match=pattern) as info:
        load_scene(folder / "vertebroplasty.yaml", "es")
    assert "\n" not in str(info.value)
    return str(info.value)


def test_loader_refuses_a_missing_step_translation(scenes_copy):
    _edit(scenes_copy / "es" / "common.yaml", lambda d: d["steps"].pop("risks"))
    message = _refused(scenes_copy, r"es/common\.yaml: step 'risks': missing: the translation of step 'risks' of common\.yaml")
    assert message.startswith(str(scenes_copy / "es" / "common.yaml"))


def test_loader_refuses_an_extra_step_translation(scenes_copy):
    _edit(scenes_copy / "es" / "vertebroplasty.yaml",
          lambda d: d["steps"].update({"balloon": {"title": "Globos", "patient": ["Un globo."]}}))
    _refused(scenes_copy, r"es/vertebroplasty\.yaml: step 'balloon': extra: vertebroplasty\.yaml has no step 'balloon'")


def test_loader_refuses_a_missing_or_extra_sentence(scenes_copy):
    path = scenes_copy / "es" / "common.yaml"
    _edit(path, lambda d: d["steps"]["needle"]["patient"].pop())
    _refused(scenes_copy, r"step 'needle': patient: 6 sentences for the 7 patient sentences of common\.yaml")
    _edit(path, lambda d: d["steps"]["needle"]["patient"].extend(["Uno.", "Dos."]))
    _refused(scenes_copy, r"step 'needle': patient: 8 sentences for the 7 patient sentences")


def test_loader_refuses_a_missing_title_or_a_missing_file(scenes_copy):
    _edit(scenes_copy / "es" / "vertebroplasty.yaml", lambda d: d["steps"]["cement"].pop("title"))
    _refused(scenes_copy, r"step 'cement': title: missing: the step's title")
    (scenes_copy / "es" / "vertebroplasty.yaml").unlink()
    _refused(scenes_copy, r"es/vertebroplasty\.yaml: missing: the Espa\u00f1ol \(es\) translation of vertebroplasty\.yaml")


def test_loader_refuses_an_untranslatable_field_and_an_empty_sentence(scenes_copy):
    path = scenes_copy / "es" / "common.yaml"
    _edit(path, lambda d: d["steps"]["fracture"]["patient"].__setitem__(0, "Mire {cement_group}."))
    _refused(scenes_copy, r"step 'fracture'.*patient\[0\].*\{cement_group\} has no translated form")
    _edit(path, lambda d: d["steps"]["fracture"]["patient"].__setitem__(0, "  "))
    _refused(scenes_copy, r"patient\[0\]: must be non-empty text")


def test_english_scenes_load_without_translations(scenes_copy):
    shutil.rmtree(scenes_copy / "es")
    assert load_scene(scenes_copy / "vertebroplasty.yaml").ids == load_named_scene("vertebroplasty").ids
