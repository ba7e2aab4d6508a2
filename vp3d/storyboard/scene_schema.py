"""What a storyboard file may hold, as pydantic models read by :func:`vp3d.schema.parse`.

The models check one file's keys, types and vocabulary (topics, parts, parameters and their
ranges, sources, template fields); :mod:`vp3d.storyboard.loader` then joins steps across files
and checks what needs the whole scene (library steps, animation timing, topic order).
"""

from __future__ import annotations

import re
from typing import Annotated, Any

from annotated_types import MinLen
from pydantic import AfterValidator, BeforeValidator, Field, field_validator, model_validator

from vp3d.levels import LEVELS, span
from vp3d.schema import FieldProblem, StrictModel, Text, kind_of, name_of, one_of, plain_text, shown
from vp3d.storyboard.scene import (
    AUDIENCES,
    CAMERA_PRESETS,
    FLUORO_VIEWS,
    MODES,
    PARAMETERS,
    PART_GROUPS,
    TOPICS,
)
from vp3d.storyboard.narration import KNOWN_FIELDS, TemplateError, template_fields
from vp3d.storyboard.sources import FACTS, REFERENCES, SOURCES, is_known_source

_PAIR = re.compile(r"^(disc|nucleus) ([TL]\d{1,2})-([TL]\d{1,2})$")


def _template(text: str) -> str:
    try:
        names = template_fields(text)
    except TemplateError as exc:
        raise ValueError(str(exc)) from None
    for name in names:
        if name not in KNOWN_FIELDS:
            raise ValueError(f"unknown template field {{{name}}} (known: {', '.join(KNOWN_FIELDS)})")
    return text


def _source(name: str) -> str:
    if not is_known_source(name):
        raise ValueError(f"unknown source {shown(name)} (known documents: {', '.join(SOURCES)}; "
                         f"named references: {'; '.join(REFERENCES)})")
    return name


#: Text that may hold ``{fields}`` the narration fills.
Template = Annotated[Text, AfterValidator(_template)]
Topic = Annotated[str, AfterValidator(one_of("topic", TOPICS, "in story order"))]
Audience = Annotated[str, AfterValidator(one_of(
    "audience", AUDIENCES, "the kiosk uses the patient narration"))]
SourceName = Annotated[str, AfterValidator(_source)]
FactKey = Annotated[str, AfterValidator(one_of("fact", FACTS))]


def _every_audience(value: dict) -> dict:
    for audience in AUDIENCES:
        if audience not in value:
            raise FieldProblem(audience, f"missing audience {audience!r}: every step speaks to "
                                         f"{' and '.join(AUDIENCES)}")
    return value


def _both_audiences(value: Any) -> Any:
    """One title for both audiences: the text stands for each."""
    if isinstance(value, str):
        text = _template(plain_text(value))
        return {audience: text for audience in AUDIENCES}
    return value


#: A title for each audience, or one text for both.
Title = Annotated[dict[Audience, Template], BeforeValidator(_both_audiences),
                  AfterValidator(_every_audience)]


def _anatomy_part(name: str) -> bool:
    if name in LEVELS:
        return True
    m = _PAIR.match(name)
    if m is None or m.group(2) not in LEVELS or m.group(3) not in LEVELS:
        return False
    return LEVELS.index(m.group(3)) == LEVELS.index(m.group(2)) + 1


def _visible(value: dict[str, str]) -> dict[str, str]:
    for part, mode in value.items():
        if part in PART_GROUPS:
            allowed = PART_GROUPS[part]
        elif _anatomy_part(part):
            allowed = MODES
        else:
            raise FieldProblem(part, f"unknown part name {shown(part)} (known: {', '.join(PART_GROUPS)}; "
                                     f"or one anatomy part: a level {span(LEVELS)}, "
                                     "'disc T12-L1', 'nucleus T12-L1')")
        if mode not in allowed:
            raise FieldProblem(part, f"unknown mode {shown(mode)} for {part!r} (known: {', '.join(allowed)})")
    return value


def _parameter(name: str) -> str:
    if name not in PARAMETERS:
        raise ValueError(f"unknown parameter {shown(name)} (known: {', '.join(PARAMETERS)})")
    return name


def _in_range(name: str, value: float) -> float:
    p = PARAMETERS[name]
    if not p.low <= value <= p.high:
        unit = f" {p.unit}" if p.unit else ""
        raise ValueError(f"{value:g} is outside {p.name}'s range {p.low:g} to {p.high:g}{unit}")
    return value


def _state(value: dict[str, float]) -> dict[str, float]:
    for name, v in value.items():
        try:
            _in_range(_parameter(name), v)
        except ValueError as exc:
            raise FieldProblem(name, str(exc)) from None
    return value


#: Part group or anatomy part -> display mode.
Visible = Annotated[dict[str, str], AfterValidator(_visible)]
#: Parameter -> held value, within the parameter's range.
State = Annotated[dict[str, float], AfterValidator(_state)]


def _three_numbers(value: list[float]) -> tuple[float, float, float]:
    if len(value) != 3:
        raise ValueError(f"must be 3 numbers [x, y, z] (mm, patient axes), got {kind_of(value)}")
    return tuple(value)


#: A point or direction, mm, patient axes.
Vec3 = Annotated[list[float], AfterValidator(_three_numbers)]


def _fluoro_none(value: Any) -> Any:
    return [] if value is None or value == "none" else value


def _distinct_views(value: list[str]) -> tuple[str, ...]:
    if len(set(value)) != len(value):
        raise ValueError(f"a view is listed twice in {value!r}")
    return tuple(value)


Fluoro = Annotated[list[Annotated[str, AfterValidator(one_of("fluoroscopy view", FLUORO_VIEWS))]],
                   BeforeValidator(_fluoro_none), AfterValidator(_distinct_views)]


class SentenceSpec(StrictModel):
    """One narrated sentence: its text, the sources it cites and the facts it states."""

    text: Template
    sources: Annotated[list[SourceName], MinLen(1)]
    facts: list[FactKey] = []

    @model_validator(mode="after")
    def _facts_are_cited(self):
        if len(set(self.sources)) != len(self.sources):
            raise FieldProblem("sources", "a source is listed twice")
        for j, f in enumerate(self.facts):
            if not set(FACTS[f].documents) & set(self.sources):
                raise FieldProblem(("facts", j), f"fact {f!r} is stated in {', '.join(FACTS[f].documents)}, "
                                                 "but the sentence cites none of them")
        return self


Sentences = Annotated[list[SentenceSpec], MinLen(1)]
#: Sentences for every audience.
Narration = Annotated[dict[Audience, Sentences], AfterValidator(_every_audience)]


def _some_audience(value: dict) -> dict:
    if not value:
        raise ValueError(f"give sentences for at least one audience ({', '.join(AUDIENCES)})")
    return value


#: Sentences added to a library step's narration, for one audience or both.
AddedNarration = Annotated[dict[Audience, Sentences], AfterValidator(_some_audience)]


class CameraSpec(StrictModel):
    """A camera preset and/or explicit points (mm from the chosen level's body centre)."""

    preset: Annotated[str, AfterValidator(one_of("camera preset", CAMERA_PRESETS))] | None = None
    position_mm: Vec3 | None = None
    focal_mm: Vec3 | None = None
    up: Vec3 | None = None

    @model_validator(mode="after")
    def _a_view(self):
        if self.preset is None and (self.position_mm is None or self.focal_mm is None):
            raise ValueError(f"give a preset ({', '.join(CAMERA_PRESETS)}) or both position_mm and focal_mm")
        if self.up is not None and not any(self.up):
            raise FieldProblem("up", "the view-up vector must not be zero")
        if self.position_mm is not None and self.position_mm == self.focal_mm:
            raise FieldProblem("position_mm", "the camera position must differ from the focal point")
        return self


class AnimationSpec(StrictModel):
    """``param`` from ``from`` to ``to`` over ``seconds``, after ``delay`` seconds."""

    param: Annotated[str, AfterValidator(_parameter)]
    start: float = Field(alias="from")
    end: float = Field(alias="to")
    seconds: float
    delay: float = 0.0

    @field_validator("start", "end")
    @classmethod
    def _within_range(cls, value: float, info) -> float:
        return _in_range(info.data["param"], value) if "param" in info.data else value

    @field_validator("seconds")
    @classmethod
    def _positive(cls, value: float) -> float:
        if value <= 0:
            raise ValueError(f"must be more than 0 s, got {value:g} (hold a value with state instead)")
        return value

    @field_validator("delay")
    @classmethod
    def _not_negative(cls, value: float) -> float:
        if value < 0:
            raise ValueError(f"must be 0 s or more, got {value:g}")
        return value


StepId = Annotated[str, AfterValidator(name_of("step id"))]


class StepSpec(StrictModel):
    """A step written in place."""

    id: StepId
    topic: Topic
    title: Title
    camera: CameraSpec
    visible: Visible = {}
    state: State = {}
    animate: list[AnimationSpec] = []
    fluoro: Fluoro = ()
    narration: Narration


class UseSpec(StrictModel):
    """A library step, with fields replaced (``visible`` and ``state`` merge key by key) and
    sentences appended."""

    use: str
    topic: Topic | None = None
    title: Title | None = None
    camera: CameraSpec | None = None
    visible: Visible | None = None
    state: State | None = None
    animate: list[AnimationSpec] | None = None
    fluoro: Fluoro | None = None
    narration: Narration | None = None
    add_narration: AddedNarration | None = None

    @model_validator(mode="after")
    def _no_empty_replacement(self):
        for name in self.model_fields_set - {"fluoro"}:  # fluoro: none is a value (no views)
            if getattr(self, name) is None:
                raise FieldProblem(name, "is empty: give a value, or leave the key out to keep the library's")
        return self


class DefaultsSpec(StrictModel):
    """Visibility and held values every step starts from."""

    visible: Visible = {}
    state: State = {}


#: Raw steps: each is checked on its own, so its problems name the step.
RawSteps = Annotated[list[dict[Any, Any]], MinLen(1)]


class SceneSpec(StrictModel):
    """A scene file."""

    scene: Annotated[str, AfterValidator(name_of("scene name"))]
    procedure: Text
    title: Title
    include: Annotated[list[Text], BeforeValidator(lambda v: [v] if isinstance(v, str) else v)] = []
    defaults: DefaultsSpec = DefaultsSpec()
    steps: RawSteps


class LibrarySpec(StrictModel):
    """A step library: defaults and steps that scenes ``use``."""

    library: Annotated[str, AfterValidator(name_of("library name"))]
    defaults: DefaultsSpec = DefaultsSpec()
    steps: RawSteps
