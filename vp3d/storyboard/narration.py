"""Narration templates: the fields a sentence may use and how they are filled.

Sentences are written once per audience with ``{field}`` placeholders for what the clinician
chooses (the level, the grade, the fracture type). Three kinds of field exist:

- context fields (:data:`CONTEXT_FIELDS`), filled from the ``context`` mapping the app passes;
  :func:`narration_context` builds one from a level, a Genant grade and a fracture type;
- the scene field ``{procedure}`` ("vertebroplasty", "kyphoplasty"), filled from the scene;
- step fields (:data:`STEP_FIELDS`), filled from the step's own parameters (``{cement_ml}``
  is the cement volume the step ends at); a step may only use one it sets above zero.

A field outside these is rejected when the scene loads; ``{{`` and ``}}`` write braces.
"""

from __future__ import annotations

import string
from types import MappingProxyType
from typing import Mapping

from vp3d.levels import level_in_words
from vp3d.storyboard.scene import AUDIENCE_ALIASES, AUDIENCES, PARAMETERS, SceneError, Sentence, Step

CONTEXT_FIELDS: Mapping[str, str] = MappingProxyType({
    "level": "level name, e.g. 'L1'",
    "level_name": "the level in words, e.g. 'first lumbar vertebra'",
    "region": "where the level is, in plain words, e.g. 'lower back'",
    "region_clinical": "where the level is, clinically, e.g. 'thoracolumbar junction'",
    "grade": "Genant grade, '1', '2' or '3'",
    "grade_words": "the grade in words: 'mild', 'moderate' or 'severe'",
    "loss_range": "Genant's height-loss range for the grade, e.g. '25-40' (write ' %' after it)",
    "loss_percent": "height loss the model shows, e.g. '33' (write ' %' after it)",
    "loss_words": "that loss in plain words, e.g. 'about a third'",
    "kind": "fracture type: 'wedge', 'biconcave' or 'crush'",
    "kind_words": "the type in plain words, e.g. 'squashed more at the front, like a wedge'",
    "strength_ml": "cement that restored strength in cadaveric bodies, mL (Belkoff 2001), e.g. '2'",
    "stiffness_ml": "cement that restored stiffness in the level's region, mL (Belkoff 2001), e.g. '4'",
    "cement_group": "Belkoff 2001's region of the level, e.g. 'thoracolumbar levels (T10\u2013L1)'",
})
SCENE_FIELDS: Mapping[str, str] = MappingProxyType({
    "procedure": "the scene's procedure, e.g. 'vertebroplasty'",
})
#: Step field -> the parameter whose final value in the step fills it.
STEP_FIELDS: Mapping[str, str] = MappingProxyType({
    "cement_ml": "cement.ml",
    "balloon_ml": "balloon.fill_ml",
})
#: Fields worked out from a step field and the context, with the step parameter they need.
DERIVED_FIELDS: Mapping[str, str] = MappingProxyType({
    "cement_comparison": "cement.ml",  # the step's volume against {strength_ml} and {stiffness_ml}
})
KNOWN_FIELDS: tuple[str, ...] = (*CONTEXT_FIELDS, *SCENE_FIELDS, *STEP_FIELDS, *DERIVED_FIELDS)

GRADE_WORDS = {1: "mild", 2: "moderate", 3: "severe"}
#: Genant et al., J Bone Miner Res 1993: height loss by grade, percent.
GENANT_RANGES = {1: "20\u201325", 2: "25\u201340", 3: "more than 40"}
KIND_WORDS = {
    "wedge": "squashed more at the front, like a wedge",
    "biconcave": "pressed in at the middle of its top and bottom",
    "crush": "flattened across its whole depth, back as well as front",
}
#: Spanish forms of the fields that are words (the others are numbers, names or student terms).
#: Grades agree with "fractura"; kinds describe "el hueso"; regions follow "en la".
GRADE_WORDS_ES = {1: "leve", 2: "moderada", 3: "grave"}
GENANT_RANGES_ES = {1: "20\u201325", 2: "25\u201340", 3: "m\u00e1s de 40"}
KIND_WORDS_ES = {
    "wedge": "m\u00e1s aplastado por delante, como una cu\u00f1a",
    "biconcave": "hundido en el centro de sus caras de arriba y de abajo",
    "crush": "aplastado en toda su profundidad, por detr\u00e1s y por delante",
}
KIND_NAMES_ES = {"wedge": "en cu\u00f1a", "biconcave": "bic\u00f3ncava", "crush": "por aplastamiento"}
_FRACTIONS_ES = ("un quinto", "un cuarto", "un tercio", "dos quintos", "la mitad", "tres quintos",
                 "dos tercios", "tres cuartos", "cuatro quintos")
#: Fields a translated sentence may use: those with a form in every language.
TRANSLATED_FIELDS: tuple[str, ...] = (
    "level", "level_name", "region", "grade", "grade_words", "loss_range", "loss_percent",
    "loss_words", "kind", "kind_words", "strength_ml", "stiffness_ml", "procedure", "cement_ml",
    "balloon_ml")
_FRACTIONS = ((1 / 5, "a fifth"), (1 / 4, "a quarter"), (1 / 3, "a third"), (2 / 5, "two fifths"),
              (1 / 2, "half"), (3 / 5, "three fifths"), (2 / 3, "two thirds"),
              (3 / 4, "three quarters"), (4 / 5, "four fifths"))


class TemplateError(ValueError):
    """A narration template that cannot be parsed or names an unknown field."""


def template_fields(text: str) -> list[str]:
    """The ``{field}`` names in ``text``, in order; raises :class:`TemplateError`."""
    try:
        parts = list(string.Formatter().parse(text))
    except ValueError as exc:
        raise TemplateError(f"bad braces in {text!r} ({exc}); write {{{{ and }}}} for literal braces") from None
    names = []
    for _, name, spec, conversion in parts:
        if name is None:
            continue
        if spec or conversion or not name.isidentifier():
            raise TemplateError(f"template field {{{name}{'!' + conversion if conversion else ''}"
                                f"{':' + spec if spec else ''}}} must be a plain name "
                                f"(known: {', '.join(KNOWN_FIELDS)})")
        names.append(name)
    return names


def _region(level: str, language: str = "en") -> tuple[str, str]:
    n = int(level[1:])
    if language == "es":
        if level[0] == "T":
            if n <= 4:
                return "parte alta de la espalda", "columna tor\u00e1cica alta"
            if n <= 10:
                return "zona media de la espalda", "columna tor\u00e1cica media"
            return "parte baja de la zona media de la espalda", "uni\u00f3n toracolumbar"
        return "parte baja de la espalda", "uni\u00f3n toracolumbar" if n == 1 else "columna lumbar"
    if level[0] == "T":
        if n <= 4:
            return "upper back", "upper thoracic spine"
        if n <= 10:
            return "middle of the back", "mid-thoracic spine"
        return "lower part of the middle back", "thoracolumbar junction"
    return "lower back", "thoracolumbar junction" if n == 1 else "lumbar spine"


def _loss_words(fraction: float, language: str = "en") -> str:
    i = min(range(len(_FRACTIONS)), key=lambda k: (abs(_FRACTIONS[k][0] - fraction), -_FRACTIONS[k][0]))
    if language == "es":
        return f"alrededor de {_FRACTIONS_ES[i]}"
    return f"about {_FRACTIONS[i][1]}"


def narration_context(level: str = "L1", grade: int = 2, kind: str = "wedge",
                      language: str = "en") -> dict[str, str]:
    """Context fields for a fracture of ``level`` with Genant ``grade`` and type ``kind``, the
    fields that are words in ``language`` (``en`` or ``es``; see :data:`TRANSLATED_FIELDS`).

    Raises ``ValueError`` (from :class:`vp3d.pathology.fracture.Fracture`) naming the valid values.
    """
    from vp3d.cement.targets import cement_targets
    from vp3d.pathology.fracture import Fracture  # the engine's own validation and modelled height loss

    f = Fracture(level, grade, kind)
    targets = cement_targets(f.level)
    region, region_clinical = _region(f.level, language)
    es = language == "es"
    return {
        "level": f.level,
        "level_name": level_in_words(f.level, language),
        "region": region,
        "region_clinical": region_clinical,
        "grade": str(f.grade),
        "grade_words": (GRADE_WORDS_ES if es else GRADE_WORDS)[f.grade],
        "loss_range": (GENANT_RANGES_ES if es else GENANT_RANGES)[f.grade],
        "loss_percent": f"{round(100 * f.height_loss):d}",
        "loss_words": _loss_words(f.height_loss, language),
        "kind": KIND_NAMES_ES[f.kind] if es else f.kind,
        "kind_words": (KIND_WORDS_ES if es else KIND_WORDS)[f.kind],
        "strength_ml": f"{targets.strength_ml:g}",
        "stiffness_ml": f"{targets.stiffness_ml:g}",
        "cement_group": targets.group,
    }


def audience_of(audience: str) -> str:
    """``patient`` or ``student`` for an audience or app mode (the kiosk uses ``patient``)."""
    try:
        return AUDIENCE_ALIASES[audience]
    except (KeyError, TypeError):
        raise ValueError(f"unknown audience {audience!r}; choose one of "
                         f"{', '.join(AUDIENCE_ALIASES)}") from None


def step_values(step: Step) -> dict[str, str]:
    """Step and scene fields of ``step`` (only those it can fill)."""
    out = {"procedure": step.procedure} if step.procedure else {}
    for name, param in STEP_FIELDS.items():
        v = step.final_value(param)
        if v is not None and v > PARAMETERS[param].low:
            out[name] = f"{v:g}"
    return out


def _values(step: Step, context: Mapping[str, object]) -> dict[str, str]:
    """Step, scene and context fields, and the derived fields they allow."""
    values = {**step_values(step), **{k: str(v) for k, v in context.items()}}
    if "cement_ml" in values and "level" in values:
        from vp3d.cement.targets import cement_targets

        try:
            values["cement_comparison"] = cement_targets(values["level"]).compare(float(values["cement_ml"]))
        except ValueError:
            pass  # an unknown level: the field stays missing and _fill names it
    return values


def _fill(text: str, values: Mapping[str, str], step: Step, where: str) -> str:
    missing = [n for n in template_fields(text) if n not in values]
    if missing:
        raise SceneError(step.source_file, step.id, where,
                         f"context lacks {', '.join(repr(m) for m in missing)} "
                         f"(build it with narration_context(level, grade, kind))")
    return text.format_map(values)


def render_narration(step: Step, audience: str, context: Mapping[str, object]) -> list[Sentence]:
    """The step's sentences for ``audience`` with every template field filled.

    ``audience`` is ``patient``, ``student`` or ``kiosk`` (kiosk = patient). ``context``
    supplies :data:`CONTEXT_FIELDS` (see :func:`narration_context`); it may also override
    ``procedure``. Raises :class:`~vp3d.storyboard.loader.SceneError` naming the step and
    the field when the context lacks a field a sentence uses.
    """
    aud = audience_of(audience)
    values = _values(step, context)
    return [Sentence(_fill(s.text, values, step, f"narration.{aud}[{i}].text"), s.sources, s.facts)
            for i, s in enumerate(step.narration[aud])]


def render_title(step: Step, audience: str, context: Mapping[str, object]) -> str:
    """The step's title for ``audience``, fields filled as in :func:`render_narration`."""
    aud = audience_of(audience)
    values = _values(step, context)
    return _fill(step.title[aud], values, step, f"title.{aud}")


def narration_text(step: Step, audience: str, context: Mapping[str, object]) -> str:
    """The step's narration for ``audience`` as one paragraph (what the speech engine reads)."""
    return " ".join(s.text.strip() for s in render_narration(step, audience, context))


__all__ = ["AUDIENCES", "CONTEXT_FIELDS", "DERIVED_FIELDS", "KNOWN_FIELDS", "SCENE_FIELDS", "STEP_FIELDS",
           "TemplateError", "audience_of", "narration_context", "narration_text",
           "render_narration", "render_title", "step_values", "template_fields", "TRANSLATED_FIELDS"]
