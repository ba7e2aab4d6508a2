"""The student quiz: multiple-choice questions with explained, sourced answers, and grading.

File format (``scenes/quiz.yaml``)
----------------------------------
::

    quiz: vertebroplasty              # name (letters, digits, _)
    title: Vertebroplasty for medical students
    questions:                        # at least MIN_QUESTIONS
      - id: cement_setting            # lower-case letters, digits, _; unique
        topic: setting                # a storyboard topic (vp3d.storyboard.TOPICS)
        question: ...                 # clinical language
        choices:                      # 3-5; text, or {id, text}
          - Within about 15 minutes
          - {id: both, text: ...}
        answer: 1                     # index into choices, or a choice id
        explanation: ...              # why, in our own words
        sources: [002_d69a0bc012a0d9ed.txt, "Genant et al., J Bone Miner Res 1993"]
        facts: [cement_hardening]     # optional fact tags; sources must hold each fact
        image:                        # optional: a fluoroscopy image the app renders
          view: ap                    # ap, lateral, or [ap, lateral]
          needle: {level: L1, side: right, medial_deg: 12, caudal_deg: 0, depth: 0.72}
          level: L1                   # fractured level (default: the needle's)
          grade: 3                    # Genant grade 1-3 of that level's fracture
          kind: wedge
          cement_ml: 0

A question with an ``image`` is a *scenario*: each of its choices carries an ``id`` from
:data:`FINDINGS`, so the answer key is a finding the engine can be asked about (the tests
check every key against :mod:`vp3d.needle.path` and :mod:`vp3d.pathology.fracture`). ``needle.depth`` is the
tip's depth as a fraction of the planned depth (as the storyboard's ``needle.depth``), on the
re-aimed path ``steer(plan_trajectory(level, side), medial_deg=..., caudal_deg=...)``.

Sources are the storyboard's: a source document by file name or a named reference by key
(:mod:`vp3d.storyboard.sources`). Every problem raises :class:`QuizError` (a ``ValueError``)
whose one-line message names the file, the question and the field, e.g.
``scenes/quiz.yaml: question 'cement_setting': answer: 4 is out of range (0..3 for 4 choices)``.

:func:`grade` checks answers exactly as the page sends them and raises :class:`AnswerError`
(a ``ValueError``) with a one-line message for anything it cannot grade.

Engine code: YAML and the storyboard's tables only (no UI, no geometry is built).
"""

from __future__ import annotations

import math
import numbers
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path


from vp3d.anatomy.morphometry import LEVELS
from vp3d.storyboard.loader import SCENES_DIR
from vp3d.storyboard.loader import _read_yaml as read_yaml
from vp3d.storyboard.model import FLUORO_VIEWS, PARAMETERS, TOPICS
from vp3d.storyboard.sources import FACTS, is_known_source, known_sources

#: The quiz file of a checkout (beside the storyboards).
QUIZ_PATH = SCENES_DIR / "quiz.yaml"
MIN_QUESTIONS = 10
MIN_CHOICES, MAX_CHOICES = 3, 5
QUIZ_KEYS = ("quiz", "title", "questions")
QUESTION_KEYS = ("id", "topic", "question", "choices", "answer", "explanation", "sources", "facts", "image")
REQUIRED_QUESTION_KEYS = ("id", "topic", "question", "choices", "answer", "explanation", "sources")
CHOICE_KEYS = ("id", "text")
IMAGE_KEYS = ("view", "needle", "level", "grade", "kind", "cement_ml")
NEEDLE_KEYS = ("level", "side", "medial_deg", "caudal_deg", "depth")
SIDES = ("right", "left")
KINDS = ("wedge", "biconcave", "crush")  # as vp3d.pathology.fracture.KINDS (not imported: no numpy here)
GRADES = (1, 2, 3)
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
_ID = re.compile(r"^[a-z][a-z0-9_]*$")
_MAX_SHOWN = 60  # characters of a bad value repeated in a message


class QuizError(ValueError):
    """A quiz file problem; the one-line message names the file, the question and the field."""

    def __init__(self, file, question: str | None, field: str | None, message: str):
        self.file, self.question, self.field = str(file), question, field
        where = [self.file]
        if question is not None:
            where.append(f"question {question!r}")
        if field:
            where.append(field)
        super().__init__(": ".join(where) + ": " + " ".join(str(message).split()))


class AnswerError(ValueError):
    """Answers that cannot be graded (unknown question, choice out of range, wrong type)."""


# ----------------------------------------------------------------------------- model


@dataclass(frozen=True)
class NeedleSpec:
    """A needle in a scenario image: the planned path re-aimed, advanced to ``depth``."""

    level: str
    side: str = "right"
    medial_deg: float = 0.0
    caudal_deg: float = 0.0
    depth: float = 1.0  # fraction of the (re-aimed) trajectory's target depth


@dataclass(frozen=True)
class ImageSpec:
    """A fluoroscopy image the app renders for a scenario question."""

    views: tuple[str, ...]
    needle: NeedleSpec | None = None
    level: str | None = None  # fractured level, when grade is given
    grade: int | None = None
    kind: str = "wedge"
    cement_ml: float = 0.0

    def describe(self) -> str:
        """A neutral text alternative (names what is shown, not what it means)."""
        views = " and ".join({"ap": "AP", "lateral": "lateral"}[v] for v in self.views)
        parts = [f"{views} fluoroscopy"]
        if self.needle is not None:
            n = self.needle
            parts.append(f"of {n.level} with a {n.side} transpedicular needle at "
                         f"{round(100 * n.depth)} % of its planned depth")
        elif self.level is not None:
            parts.append(f"of {self.level}")
        if self.cement_ml:
            parts.append(f"after {self.cement_ml:g} mL of cement")
        return " ".join(parts)


@dataclass(frozen=True)
class Question:
    id: str
    topic: str
    question: str
    choices: tuple[str, ...]
    answer: int  # index into choices
    explanation: str
    sources: tuple[str, ...]
    facts: tuple[str, ...] = ()
    choice_ids: tuple[str | None, ...] = ()
    image: ImageSpec | None = None

    @property
    def is_scenario(self) -> bool:
        return self.image is not None

    @property
    def answer_id(self) -> str | None:
        return self.choice_ids[self.answer] if self.choice_ids else None


@dataclass(frozen=True)
class Quiz:
    name: str
    title: str
    questions: tuple[Question, ...]
    path: str = ""

    def __len__(self) -> int:
        return len(self.questions)

    def question(self, qid: str) -> Question:
        for q in self.questions:
            if q.id == qid:
                return q
        raise KeyError(qid)

    @property
    def ids(self) -> tuple[str, ...]:
        return tuple(q.id for q in self.questions)


@dataclass(frozen=True)
class Result:
    """One question, graded."""

    question_id: str
    chosen: int | None  # None: not answered
    answer: int
    correct: bool
    explanation: str
    sources: tuple[str, ...]


@dataclass(frozen=True)
class Score:
    results: tuple[Result, ...]
    correct: int
    answered: int
    total: int

    @property
    def percent(self) -> float:
        return 100.0 * self.correct / self.total if self.total else 0.0


# ----------------------------------------------------------------------------- loading


@dataclass(frozen=True)
class _Ctx:
    file: str
    question: str | None = None

    def fail(self, field: str | None, message: str):
        raise QuizError(self.file, self.question, field, message)


def _kind(value) -> str:
    if value is None:
        return "nothing"
    shown = repr(value)
    if len(shown) > _MAX_SHOWN:
        shown = shown[:_MAX_SHOWN] + "..."
    return f"{type(value).__name__} {shown}"


def _shown(value) -> str:
    shown = repr(value)
    return shown[:_MAX_SHOWN] + "..." if len(shown) > _MAX_SHOWN else shown


def _keys(ctx: _Ctx, where: str | None, value, allowed, required=(), label="the file") -> dict:
    if not isinstance(value, dict):
        ctx.fail(where, f"must be a mapping with keys {', '.join(allowed)}, got {_kind(value)}")
    for k in value:
        if k not in allowed:
            w = f"{where}.{k}" if where else str(k)
            ctx.fail(w, f"unknown key {_shown(k)} in {label} (known: {', '.join(allowed)})")
    for k in required:
        if k not in value:
            ctx.fail(f"{where}.{k}" if where else k, f"missing required key {k!r}")
    return value


def _text(ctx: _Ctx, where: str, value) -> str:
    if not isinstance(value, str) or not value.strip():
        ctx.fail(where, f"must be non-empty text, got {_kind(value)}")
    return " ".join(value.split())


def _number(ctx: _Ctx, where: str, value, low: float, high: float, unit: str = "") -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        ctx.fail(where, f"must be a finite number, got {_kind(value)}")
    if not low <= value <= high:
        ctx.fail(where, f"{value:g} is outside {low:g} to {high:g}{unit}")
    return float(value)


def _choice(ctx: _Ctx, where: str, value) -> tuple[str | None, str]:
    if isinstance(value, dict):
        _keys(ctx, where, value, CHOICE_KEYS, required=CHOICE_KEYS, label="a choice")
        cid = value["id"]
        if not isinstance(cid, str) or not _ID.match(cid):
            ctx.fail(f"{where}.id", f"choice id must be lower-case letters, digits and _, got {_kind(cid)}")
        return cid, _text(ctx, f"{where}.text", value["text"])
    return None, _text(ctx, where, value)


def _level(ctx: _Ctx, where: str, value) -> str:
    if value not in LEVELS:
        ctx.fail(where, f"unknown level {_shown(value)} (valid: {LEVELS[0]}..{LEVELS[-1]})")
    return value


def _parse_needle(ctx: _Ctx, where: str, value) -> NeedleSpec:
    _keys(ctx, where, value, NEEDLE_KEYS, required=("level",), label="a needle")
    side = value.get("side", "right")
    if side not in SIDES:
        ctx.fail(f"{where}.side", f"unknown side {_shown(side)} (known: {', '.join(SIDES)})")
    return NeedleSpec(
        level=_level(ctx, f"{where}.level", value["level"]),
        side=side,
        medial_deg=_number(ctx, f"{where}.medial_deg", value.get("medial_deg", 0.0),
                           -MAX_STEER_DEG, MAX_STEER_DEG, " deg"),
        caudal_deg=_number(ctx, f"{where}.caudal_deg", value.get("caudal_deg", 0.0),
                           -MAX_STEER_DEG, MAX_STEER_DEG, " deg"),
        depth=_number(ctx, f"{where}.depth", value.get("depth", 1.0), 0.0, 1.0,
                      " (fraction of the planned depth)"),
    )


def _parse_image(ctx: _Ctx, where: str, value) -> ImageSpec:
    _keys(ctx, where, value, IMAGE_KEYS, required=("view",), label="an image")
    view = value["view"]
    views = [view] if isinstance(view, str) else view
    if (not isinstance(views, list) or not views or len(set(map(repr, views))) != len(views)
            or any(v not in FLUORO_VIEWS for v in views)):
        ctx.fail(f"{where}.view", f"must be {' or '.join(FLUORO_VIEWS)} or a list of distinct "
                                  f"views, got {_kind(view)}")
    needle = _parse_needle(ctx, f"{where}.needle", value["needle"]) if "needle" in value else None
    level = _level(ctx, f"{where}.level", value["level"]) if "level" in value else None
    grade = value.get("grade")
    if grade is not None and (isinstance(grade, bool) or grade not in GRADES):
        ctx.fail(f"{where}.grade", f"Genant grade must be 1, 2 or 3, got {_kind(grade)}")
    kind = value.get("kind", "wedge")
    if kind not in KINDS:
        ctx.fail(f"{where}.kind", f"unknown fracture kind {_shown(kind)} (known: {', '.join(KINDS)})")
    p = PARAMETERS["cement.ml"]
    cement = _number(ctx, f"{where}.cement_ml", value.get("cement_ml", 0.0), p.low, p.high, " mL")
    if level is None and needle is not None:
        level = needle.level
    if level is None and (grade is not None or cement):
        ctx.fail(f"{where}.level", "a fracture grade or cement needs a level (or a needle)")
    if needle is not None and level != needle.level:
        ctx.fail(f"{where}.level", f"the image's level {level} differs from the needle's {needle.level}")
    if needle is None and grade is None and not cement:
        ctx.fail(where, "an image must show something: a needle, a fracture grade or cement")
    return ImageSpec(tuple(views), needle, level, grade, kind, cement)


def _parse_question(ctx_file: str, where: str, value, seen: dict[str, int]) -> Question:
    if not isinstance(value, dict):
        raise QuizError(ctx_file, None, where, f"a question must be a mapping, got {_kind(value)}")
    qid = value.get("id")
    if qid is None:
        raise QuizError(ctx_file, None, f"{where}.id", "missing required key 'id'")
    if not isinstance(qid, str) or not _ID.match(qid):
        raise QuizError(ctx_file, None, f"{where}.id",
                        f"question id must be lower-case letters, digits and _, got {_kind(qid)}")
    if qid in seen:
        raise QuizError(ctx_file, qid, f"{where}.id", f"duplicate question id {qid!r} "
                                                      f"(first at questions[{seen[qid]}])")
    ctx = _Ctx(ctx_file, qid)
    _keys(ctx, None, value, QUESTION_KEYS, required=REQUIRED_QUESTION_KEYS, label="a question")
    topic = value["topic"]
    if topic not in TOPICS:
        ctx.fail("topic", f"unknown topic {_shown(topic)} (known: {', '.join(TOPICS)})")
    question = _text(ctx, "question", value["question"])

    raw = value["choices"]
    if not isinstance(raw, list) or not MIN_CHOICES <= len(raw) <= MAX_CHOICES:
        ctx.fail("choices", f"must be a list of {MIN_CHOICES} to {MAX_CHOICES} choices, got {_kind(raw)}")
    parsed = [_choice(ctx, f"choices[{i}]", c) for i, c in enumerate(raw)]
    ids = [cid for cid, _ in parsed]
    texts = [t for _, t in parsed]
    for i, t in enumerate(texts):
        if texts.index(t) != i:
            ctx.fail(f"choices[{i}]", f"repeats choices[{texts.index(t)}]")
    named = [c for c in ids if c is not None]
    if named and len(named) != len(ids):
        ctx.fail(f"choices[{ids.index(None)}]", "give every choice an id or none")
    for i, c in enumerate(ids):
        if c is not None and ids.index(c) != i:
            ctx.fail(f"choices[{i}].id", f"duplicate choice id {c!r}")

    answer = value["answer"]
    if isinstance(answer, str):
        if answer not in named:
            known = ", ".join(named) or "none: the choices have no ids, give an index"
            ctx.fail("answer", f"unknown choice id {_shown(answer)} (known: {known})")
        answer = ids.index(answer)
    elif isinstance(answer, bool) or not isinstance(answer, int):
        ctx.fail("answer", f"must be a choice index or a choice id, got {_kind(answer)}")
    elif not 0 <= answer < len(texts):
        ctx.fail("answer", f"{answer} is out of range (0..{len(texts) - 1} for {len(texts)} choices)")

    explanation = _text(ctx, "explanation", value["explanation"])
    sources = value["sources"]
    if not isinstance(sources, list) or not sources:
        ctx.fail("sources", f"must be a non-empty list of sources, got {_kind(sources)}")
    for i, s in enumerate(sources):
        if not isinstance(s, str) or not is_known_source(s):
            ctx.fail(f"sources[{i}]", f"unknown source {_shown(s)} (known: {'; '.join(known_sources())})")
    facts = value.get("facts", [])
    if not isinstance(facts, list):
        ctx.fail("facts", f"must be a list of fact keys, got {_kind(facts)}")
    for i, f in enumerate(facts):
        if f not in FACTS:
            ctx.fail(f"facts[{i}]", f"unknown fact {_shown(f)} (known: {', '.join(FACTS)})")
        if not set(FACTS[f].documents) & set(sources):
            ctx.fail(f"facts[{i}]", f"fact {f!r} is stated in {', '.join(FACTS[f].documents)}; "
                                    "cite at least one of them")

    image = _parse_image(ctx, "image", value["image"]) if "image" in value else None
    if image is not None:
        if not named:
            ctx.fail("choices", f"a scenario's choices need ids from the findings ({', '.join(FINDINGS)})")
        for i, c in enumerate(ids):
            if c not in FINDINGS:
                ctx.fail(f"choices[{i}].id", f"unknown finding {c!r} (known: {', '.join(FINDINGS)})")
    return Question(qid, topic, question, tuple(texts), answer, explanation, tuple(sources),
                    tuple(facts), tuple(ids) if named else (), image)


def _read_yaml(path: Path, shown: str) -> dict:
    return read_yaml(path, shown, QuizError)


def load_quiz(path=None) -> Quiz:
    """Load and validate ``scenes/quiz.yaml`` (or ``path``); raises :class:`QuizError`."""
    path = Path(path) if path is not None else QUIZ_PATH
    shown = str(path)
    doc = _read_yaml(path, shown)
    ctx = _Ctx(shown)
    _keys(ctx, None, doc, QUIZ_KEYS, required=QUIZ_KEYS)
    name = doc["quiz"]
    if not isinstance(name, str) or not _ID.match(name):
        ctx.fail("quiz", f"quiz name must be lower-case letters, digits and _, got {_kind(name)}")
    title = _text(ctx, "title", doc["title"])
    raw = doc["questions"]
    if not isinstance(raw, list):
        ctx.fail("questions", f"must be a list of questions, got {_kind(raw)}")
    seen: dict[str, int] = {}
    questions = []
    for i, q in enumerate(raw):
        parsed = _parse_question(shown, f"questions[{i}]", q, seen)
        seen[parsed.id] = i
        questions.append(parsed)
    if len(questions) < MIN_QUESTIONS:
        ctx.fail("questions", f"has {len(questions)} questions; a quiz needs at least {MIN_QUESTIONS}")
    return Quiz(name, title, tuple(questions), shown)


# ----------------------------------------------------------------------------- grading


def grade(quiz: Quiz, answers) -> Score:
    """Grade ``answers`` (question id -> chosen choice index), as the page sends them.

    Unanswered questions count as wrong. Raises :class:`AnswerError` for anything that is not
    a mapping of known question ids to integer choice indexes in range.
    """
    if not isinstance(answers, Mapping):
        raise AnswerError(f"answers must be a mapping of question id -> choice index, got {_kind(answers)}")
    by_id = {q.id: q for q in quiz.questions}
    for qid, chosen in answers.items():
        if not isinstance(qid, str) or qid not in by_id:
            raise AnswerError(f"unknown question id {_shown(qid)} (the quiz has {len(by_id)} questions: "
                              f"{', '.join(list(by_id)[:3])}, ...)")
        n = len(by_id[qid].choices)
        if isinstance(chosen, bool) or not isinstance(chosen, numbers.Integral):
            raise AnswerError(f"answer to {qid!r}: the choice must be an integer 0..{n - 1}, got {_kind(chosen)}")
        if not 0 <= chosen < n:
            raise AnswerError(f"answer to {qid!r}: choice {int(chosen)} is out of range (0..{n - 1})")
    results = []
    for q in quiz.questions:
        chosen = int(answers[q.id]) if q.id in answers else None
        results.append(Result(q.id, chosen, q.answer, chosen == q.answer, q.explanation, q.sources))
    correct = sum(r.correct for r in results)
    return Score(tuple(results), correct, len(answers), len(results))
