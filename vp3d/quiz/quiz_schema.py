"""What the quiz file may hold, as pydantic models read by :func:`vp3d.schema.parse`.

The models check one question's keys, types, vocabulary and answer key; :func:`vp3d.quiz.questions.load_quiz`
checks what needs the whole file (distinct question ids) and builds the quiz's dataclasses.
"""

from __future__ import annotations

from typing import Annotated, Any

from annotated_types import Len, MinLen
from pydantic import AfterValidator, BeforeValidator, field_validator, model_validator

from vp3d.checks import GRADES, KINDS
from vp3d.levels import LEVELS, span
from vp3d.schema import FieldProblem, StrictModel, Text, kind_of, name_of, one_of, shown
from vp3d.storyboard.scene import FLUORO_VIEWS, PARAMETERS, TOPICS
from vp3d.storyboard.sources import FACTS, is_known_source, known_sources

MIN_QUESTIONS = 10
MIN_CHOICES, MAX_CHOICES = 3, 5
SIDES = ("right", "left")
MAX_STEER_DEG = 45.0  # as vp3d.needle.steer
#: What a scenario image can show; a scenario's choices are these ids.
FINDINGS: dict[str, str] = {
    "safe_in_pedicle": "tip inside the pedicle, no wall breached, body not yet reached",
    "safe_at_target": "tip at the target in the anterior body, no wall breached on the way",
    "canal_breach_risk": "tip medial to the medial pedicle line on AP before the posterior body "
                         "wall on lateral: the medial wall is breached, the canal is at risk",
    "lateral_breach": "the lateral pedicle wall is breached; the canal is not threatened",
    "grade_1": "Genant grade 1 (mild): 20-25 % height loss",
    "grade_2": "Genant grade 2 (moderate): 25-40 % height loss",
    "grade_3": "Genant grade 3 (severe): more than 40 % height loss",
    "no_fracture": "no vertebral height loss",
}


def _level(value: str) -> str:
    if value not in LEVELS:
        raise ValueError(f"unknown level {shown(value)} (valid: {span(LEVELS)})")
    return value


def _between(low: float, high: float, unit: str = ""):
    def check(value: float) -> float:
        if not low <= value <= high:
            raise ValueError(f"{value:g} is outside {low:g} to {high:g}{unit}")
        return value

    return check


def _grade(value: int) -> int:
    if value not in GRADES:
        raise ValueError(f"Genant grade must be 1, 2 or 3, got {kind_of(value)}")
    return value


def _source(value: str) -> str:
    if not is_known_source(value):
        raise ValueError(f"unknown source {shown(value)} (known: {'; '.join(known_sources())})")
    return value


def _views(value: Any) -> Any:
    views = [value] if isinstance(value, str) else value
    if (not isinstance(views, list) or not views or len(set(map(repr, views))) != len(views)
            or any(v not in FLUORO_VIEWS for v in views)):
        raise ValueError(f"must be {' or '.join(FLUORO_VIEWS)} or a list of distinct views, got {kind_of(value)}")
    return views


Level = Annotated[str, AfterValidator(_level)]
SteerDeg = Annotated[float, AfterValidator(_between(-MAX_STEER_DEG, MAX_STEER_DEG, " deg"))]
_CEMENT = PARAMETERS["cement.ml"]


class NeedleSpecFile(StrictModel):
    """A needle in a scenario image: the planned path re-aimed, advanced to ``depth``."""

    level: Level
    side: Annotated[str, AfterValidator(one_of("side", SIDES))] = "right"
    medial_deg: SteerDeg = 0.0
    caudal_deg: SteerDeg = 0.0
    depth: Annotated[float, AfterValidator(_between(0.0, 1.0, " (fraction of the planned depth)"))] = 1.0


class ImageSpecFile(StrictModel):
    """A fluoroscopy image of a scenario: its views, a needle, a fracture and cement."""

    view: Annotated[list[str], BeforeValidator(_views)]
    needle: NeedleSpecFile | None = None
    level: Level | None = None
    grade: Annotated[int, AfterValidator(_grade)] | None = None
    kind: Annotated[str, AfterValidator(one_of("fracture kind", KINDS))] = "wedge"
    cement_ml: Annotated[float, AfterValidator(_between(_CEMENT.low, _CEMENT.high, " mL"))] = 0.0

    @model_validator(mode="after")
    def _shows_one_level(self):
        level = self.level if self.level is not None else (self.needle.level if self.needle else None)
        if level is None and (self.grade is not None or self.cement_ml):
            raise FieldProblem("level", "a fracture grade or cement needs a level (or a needle)")
        if self.needle is not None and level != self.needle.level:
            raise FieldProblem("level", f"the image's level {level} differs from the needle's {self.needle.level}")
        if self.needle is None and self.grade is None and not self.cement_ml:
            raise ValueError("an image must show something: a needle, a fracture grade or cement")
        return self


class ChoiceFile(StrictModel):
    """One answer choice: text, with an id where the answer key names it."""

    id: Annotated[str, AfterValidator(name_of("choice id"))] | None
    text: Text


def _text_choice(value: Any) -> Any:
    return {"id": None, "text": value} if isinstance(value, str) else value


class QuestionFile(StrictModel):
    """One multiple-choice question with its answer key, explanation and sources."""

    id: Annotated[str, AfterValidator(name_of("question id"))]
    topic: Annotated[str, AfterValidator(one_of("topic", TOPICS))]
    question: Text
    choices: Annotated[list[Annotated[ChoiceFile, BeforeValidator(_text_choice)]], Len(MIN_CHOICES, MAX_CHOICES)]
    answer: Any
    explanation: Text
    sources: Annotated[list[Annotated[str, AfterValidator(_source)]], MinLen(1)]
    facts: list[Annotated[str, AfterValidator(one_of("fact", FACTS))]] = []
    image: ImageSpecFile | None = None

    @field_validator("answer")
    @classmethod
    def _index_or_id(cls, value: Any) -> Any:
        if isinstance(value, bool) or not isinstance(value, (int, str)):
            raise ValueError(f"must be a choice index or a choice id, got {kind_of(value)}")
        return value

    @property
    def choice_ids(self) -> list[str | None]:
        return [c.id for c in self.choices]

    @property
    def answer_index(self) -> int:
        """The answer as an index into the choices (the model checked it)."""
        return self.choice_ids.index(self.answer) if isinstance(self.answer, str) else self.answer

    @model_validator(mode="after")
    def _consistent(self):
        texts = [c.text for c in self.choices]
        ids = self.choice_ids
        for i, t in enumerate(texts):
            if texts.index(t) != i:
                raise FieldProblem(("choices", i), f"repeats choices[{texts.index(t)}]")
        named = [c for c in ids if c is not None]
        if named and len(named) != len(ids):
            raise FieldProblem(("choices", ids.index(None)), "give every choice an id or none")
        for i, c in enumerate(ids):
            if c is not None and ids.index(c) != i:
                raise FieldProblem(("choices", i, "id"), f"duplicate choice id {c!r}")
        if isinstance(self.answer, str) and self.answer not in named:
            known = ", ".join(named) or "none: the choices have no ids, give an index"
            raise FieldProblem("answer", f"unknown choice id {shown(self.answer)} (known: {known})")
        if isinstance(self.answer, int) and not 0 <= self.answer < len(texts):
            raise FieldProblem("answer", f"{self.answer} is out of range (0..{len(texts) - 1} "
                                         f"for {len(texts)} choices)")
        for i, f in enumerate(self.facts):
            if not set(FACTS[f].documents) & set(self.sources):
                raise FieldProblem(("facts", i), f"fact {f!r} is stated in {', '.join(FACTS[f].documents)}; "
                                                 "cite at least one of them")
        if self.image is not None:
            if not named:
                raise FieldProblem("choices", f"a scenario's choices need ids from the findings "
                                              f"({', '.join(FINDINGS)})")
            for i, c in enumerate(ids):
                if c not in FINDINGS:
                    raise FieldProblem(("choices", i, "id"), f"unknown finding {c!r} (known: {', '.join(FINDINGS)})")
        return self


class QuizFile(StrictModel):
    """The quiz file: a name, a title and its questions (each checked on its own)."""

    quiz: Annotated[str, AfterValidator(name_of("quiz name"))]
    title: Text
    questions: Annotated[list[dict[Any, Any]], MinLen(MIN_QUESTIONS)]
