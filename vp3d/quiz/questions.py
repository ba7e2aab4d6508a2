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
(:mod:`vp3d.storyboard.sources`). The file is checked by the pydantic models of
:mod:`vp3d.quiz.quiz_schema` through the shared strict reader :mod:`vp3d.schema`. Every problem raises :class:`QuizError` (a ``ValueError``)
whose one-line message names the file, the question and the field, e.g.
``scenes/quiz.yaml: question 'cement_setting': answer: 4 is out of range (0..3 for 4 choices)``.

:func:`grade` checks answers exactly as the page sends them and raises :class:`AnswerError`
(a ``ValueError``) with a one-line message for anything it cannot grade.

Engine code: YAML and the storyboard's tables only (no UI, no geometry is built).
"""

from __future__ import annotations

import numbers
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from vp3d.quiz.quiz_schema import (  # the quiz's vocabulary, re-exported here
    FINDINGS,
    GRADES,
    KINDS,
    MAX_CHOICES,
    MAX_STEER_DEG,
    MIN_CHOICES,
    MIN_QUESTIONS,
    SIDES,
    ImageSpecFile,
    QuestionFile,
    QuizFile,
)
from vp3d.schema import kind_of, name_of, parse, read_yaml, shown
from vp3d.storyboard.loader import SCENES_DIR

__all__ = ["FINDINGS", "GRADES", "KINDS", "MAX_CHOICES", "MAX_STEER_DEG", "MIN_CHOICES", "MIN_QUESTIONS",
           "QUIZ_PATH", "SIDES", "AnswerError", "ImageSpec", "NeedleSpec", "Question", "Quiz", "QuizError",
           "Result", "Score", "grade", "load_quiz"]

#: The quiz file of a checkout (beside the storyboards).
QUIZ_PATH = SCENES_DIR / "quiz.yaml"


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


_is_question_id = name_of("question id")


def _image(spec: ImageSpecFile) -> ImageSpec:
    needle = None
    if spec.needle is not None:
        n = spec.needle
        needle = NeedleSpec(n.level, n.side, n.medial_deg, n.caudal_deg, n.depth)
    level = spec.level if spec.level is not None else (needle.level if needle else None)
    return ImageSpec(tuple(spec.view), needle, level, spec.grade, spec.kind, spec.cement_ml)


def _question(file: str, index: int, raw, seen: dict[str, int]) -> Question:
    """One question checked on its own, named by its id once that is valid."""
    qid = raw.get("id") if isinstance(raw, dict) else None
    try:
        item, at = _is_question_id(qid), ()
    except (TypeError, ValueError):
        item, at = None, ("questions", index)
    if item is not None and item in seen:
        raise QuizError(file, item, f"questions[{index}].id",
                        f"duplicate question id {item!r} (first at questions[{seen[item]}])")
    q = parse(QuestionFile, raw, error=QuizError, file=file, item=item, at=at)
    ids = tuple(q.choice_ids) if q.choice_ids[0] is not None else ()
    return Question(q.id, q.topic, q.question, tuple(c.text for c in q.choices), q.answer_index,
                    q.explanation, tuple(q.sources), tuple(q.facts), ids,
                    _image(q.image) if q.image is not None else None)


def load_quiz(path=None) -> Quiz:
    """Load and validate ``scenes/quiz.yaml`` (or ``path``); raises :class:`QuizError`."""
    path = Path(path) if path is not None else QUIZ_PATH
    shown_as = str(path)
    spec = parse(QuizFile, read_yaml(path, shown_as, QuizError), error=QuizError, file=shown_as)
    seen: dict[str, int] = {}
    questions = []
    for i, raw in enumerate(spec.questions):
        question = _question(shown_as, i, raw, seen)
        seen[question.id] = i
        questions.append(question)
    return Quiz(spec.quiz, spec.title, tuple(questions), shown_as)


# ----------------------------------------------------------------------------- grading


def grade(quiz: Quiz, answers) -> Score:
    """Grade ``answers`` (question id -> chosen choice index), as the page sends them.

    Unanswered questions count as wrong. Raises :class:`AnswerError` for anything that is not
    a mapping of known question ids to integer choice indexes in range.
    """
    if not isinstance(answers, Mapping):
        raise AnswerError(f"answers must be a mapping of question id -> choice index, got {kind_of(answers)}")
    by_id = {q.id: q for q in quiz.questions}
    for qid, chosen in answers.items():
        if not isinstance(qid, str) or qid not in by_id:
            raise AnswerError(f"unknown question id {shown(qid)} (the quiz has {len(by_id)} questions: "
                              f"{', '.join(list(by_id)[:3])}, ...)")
        n = len(by_id[qid].choices)
        if isinstance(chosen, bool) or not isinstance(chosen, numbers.Integral):
            raise AnswerError(f"answer to {qid!r}: the choice must be an integer 0..{n - 1}, got {kind_of(chosen)}")
        if not 0 <= chosen < n:
            raise AnswerError(f"answer to {qid!r}: choice {int(chosen)} is out of range (0..{n - 1})")
    results = []
    for q in quiz.questions:
        chosen = int(answers[q.id]) if q.id in answers else None
        results.append(Result(q.id, chosen, q.answer, chosen == q.answer, q.explanation, q.sources))
    correct = sum(r.correct for r in results)
    return Score(tuple(results), correct, len(answers), len(results))
