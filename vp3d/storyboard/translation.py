"""Translations of a storyboard's patient text, one file per language beside the English file
(``scenes/es/common.yaml`` translates ``scenes/common.yaml``), keyed by the same step ids.

A translation file::

    translates: vertebroplasty.yaml   # the English file it translates, beside its folder
    language: es
    procedure: vertebroplastia        # scenes only: fills {procedure} in this language
    title: La vertebroplastia, explicada   # scenes only: the scene's patient title
    steps:
      cement:                         # every step of the English file with patient text
        title: Rellenar el hueso con cemento   # when the English file sets the step's title
        patient: [..., ...]           # one text per patient sentence the English file writes
                                      # (narration, then add_narration), in the same order

Only the words change: each sentence keeps the English sentence's sources and facts, so the
citations stay the same. :func:`translate_document` puts the translated words into the English
file's parsed YAML, which the loader then checks like any storyboard; a missing or extra step,
title or sentence raises :class:`~vp3d.storyboard.scene.SceneError` naming the translation file
and the step. Student narration is not translated.
"""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Annotated, Any

from pydantic import AfterValidator

from vp3d.i18n import DEFAULT_LANGUAGE, LANGUAGES
from vp3d.schema import StrictModel, Text, name_of, one_of, parse, read_yaml
from vp3d.storyboard.narration import TRANSLATED_FIELDS, template_fields
from vp3d.storyboard.scene import SceneError
from vp3d.storyboard.scene_schema import Template

__all__ = ["TranslationSpec", "translation_path", "translate_document"]

#: Languages with translation files (English is the storyboards' own).
Language = Annotated[str, AfterValidator(one_of(
    "language", tuple(code for code in LANGUAGES if code != DEFAULT_LANGUAGE)))]
StepId = Annotated[str, AfterValidator(name_of("step id"))]


def _translatable(text: str) -> str:
    for name in template_fields(text):
        if name not in TRANSLATED_FIELDS:
            raise ValueError(f"template field {{{name}}} has no translated form "
                             f"(translated: {', '.join(TRANSLATED_FIELDS)})")
    return text


#: Translated text: a template whose fields all have words in every language.
Translated = Annotated[Template, AfterValidator(_translatable)]


class StepTranslation(StrictModel):
    """One step's patient title and sentences in the language."""

    title: Translated | None = None
    patient: list[Translated] = []


class TranslationSpec(StrictModel):
    """A translation file."""

    translates: Text
    language: Language
    procedure: Text | None = None
    title: Translated | None = None
    steps: dict[StepId, dict[Any, Any]]  # each read as a StepTranslation, so problems name the step


def translation_path(path: Path, language: str) -> Path:
    """``scenes/es/common.yaml`` for ``scenes/common.yaml`` and ``es``."""
    return path.parent / language / path.name


def _patient_title(raw: dict) -> str | None:
    title = raw.get("title")
    if isinstance(title, dict):
        return title.get("patient")
    return title


def _patient_lists(raw: dict) -> list[list]:
    """The lists of patient sentences a raw step writes: its narration, then its additions."""
    out = []
    for key in ("narration", "add_narration"):
        block = raw.get(key)
        if isinstance(block, dict) and isinstance(block.get("patient"), list):
            out.append(block["patient"])
    return out


def _english_steps(doc: dict) -> dict[str, dict]:
    """Step id -> raw step, for the raw steps that carry patient text."""
    out = {}
    for raw in doc.get("steps") or []:
        if not isinstance(raw, dict):
            continue
        sid = raw.get("id", raw.get("use"))
        if isinstance(sid, str) and (_patient_title(raw) is not None or _patient_lists(raw)):
            out[sid] = raw
    return out


def _fill_step(raw: dict, spec: StepTranslation, file: str, sid: str, english: str) -> None:
    title = _patient_title(raw)
    if (title is None) != (spec.title is None):
        problem = "has no title to translate" if title is None else "missing: the step's title"
        raise SceneError(file, sid, "title", f"{problem} (as in {english})")
    if spec.title is not None:
        old = raw["title"]
        raw["title"] = ({**old, "patient": spec.title} if isinstance(old, dict)
                        else {"patient": spec.title, "student": old})
    lists = _patient_lists(raw)
    count = sum(len(sentences) for sentences in lists)
    if len(spec.patient) != count:
        raise SceneError(file, sid, "patient", f"{len(spec.patient)} sentences for the "
                                               f"{count} patient sentences of {english}")
    texts = iter(spec.patient)
    for sentences in lists:
        for i, sentence in enumerate(sentences):
            if isinstance(sentence, dict):
                sentences[i] = {**sentence, "text": next(texts)}
            else:
                next(texts)  # a broken English sentence: the English file's check names it


def translate_document(doc: dict, path: Path, language: str) -> dict:
    """The English storyboard file ``doc`` (read from ``path``) with its patient text in
    ``language``, from the translation file beside it; raises ``SceneError`` naming the
    translation file and step when that file is missing, broken or does not match."""
    tpath = translation_path(path, language)
    file = str(tpath)
    if not tpath.is_file():
        raise SceneError(file, None, None, f"missing: the {LANGUAGES.get(language, language)} "
                                           f"({language}) translation of {path.name}")
    spec = parse(TranslationSpec, read_yaml(tpath, file, SceneError), error=SceneError, file=file)
    if spec.translates != path.name or spec.language != language:
        raise SceneError(file, None, "translates", f"this file translates {spec.translates!r} into "
                                                   f"{spec.language!r}, not {path.name!r} into {language!r}")
    is_scene = "scene" in doc
    for key in ("procedure", "title"):
        if (getattr(spec, key) is None) == is_scene:
            need = "missing: the scene's" if is_scene else "a step library has no"
            raise SceneError(file, None, key, f"{need} {key} to translate ({path.name})")
    out = copy.deepcopy(doc)
    if is_scene:
        old = out.get("title")
        out["title"] = ({**old, "patient": spec.title} if isinstance(old, dict)
                        else {"patient": spec.title, "student": old})
    english = _english_steps(out)
    for sid in spec.steps:
        if sid not in english:
            raise SceneError(file, sid, None, f"extra: {path.name} has no step {sid!r} with "
                                              f"patient text (known: {', '.join(english)})")
    for sid, raw in english.items():
        if sid not in spec.steps:
            raise SceneError(file, sid, None, f"missing: the translation of step {sid!r} "
                                              f"of {path.name}")
        step = parse(StepTranslation, spec.steps[sid], error=SceneError, file=file, item=sid)
        _fill_step(raw, step, file, sid, path.name)
    return out
