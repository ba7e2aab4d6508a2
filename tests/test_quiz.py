"""The student quiz: the file validates, scenario keys agree with the engine, grading is strict."""

from __future__ import annotations

import copy
import math
import re
from pathlib import Path

import numpy as np
import pytest
import yaml

from vp3d.quiz.questions import (
    FINDINGS,
    MIN_QUESTIONS,
    AnswerError,
    QuizError,
    Score,
    grade,
    load_quiz,
)
from vp3d.storyboard.sources import REFERENCES, SOURCES


@pytest.fixture(scope="module")
def quiz():
    return load_quiz()


# ----------------------------------------------------------------------------- the quiz file


def test_quiz_loads_with_enough_questions_and_a_scenario(quiz):
    assert len(quiz) >= max(MIN_QUESTIONS, 12)
    assert len(set(quiz.ids)) == len(quiz)
    scenarios = [q for q in quiz.questions if q.is_scenario]
    assert scenarios and any(q.image.needle is not None for q in scenarios)
    for q in quiz.questions:
        assert 3 <= len(q.choices) <= 5 and 0 <= q.answer < len(q.choices)
        assert q.explanation and q.sources, q.id
        assert all(s in SOURCES or s in REFERENCES for s in q.sources), q.id
    # The key is not always in the same place.
    assert len({q.answer for q in quiz.questions}) >= 3


def test_required_topics_are_covered(quiz):
    text = " ".join(" ".join((q.question, q.choices[q.answer], q.explanation)) for q in quiz.questions)
    for needle in ("osteoporosis", "prone", "sedation", "pedicle", "AP", "lateral", "PMMA", "15 minutes",
                   "one hour", "70 %", "90 %", "1-3 %", "leakage", "infection", "spinal cord injury",
                   "balloon", "47 %", "20-25 %", "25-40 %", "more than 40 %", "MRI"):
        assert needle.lower() in text.lower(), needle


def test_cement_setting_answer_acknowledges_both_sources(quiz):
    q = next(q for q in quiz.questions if "cement_hardening" in q.facts)
    right = q.choices[q.answer]
    assert "15 minutes" in right and "one hour" in right
    assert {"000_0ec69ff9a9532710.txt", "002_d69a0bc012a0d9ed.txt"} <= set(q.sources)


SOURCE_DIR = Path(__file__).resolve().parents[2] / "shared" / "sources"


def _figures(text: str) -> set[str]:
    """Figures in ``text``: digits not part of a name such as L1 or T2."""
    return set(re.findall(r"(?<![A-Za-z\d])\d+", text))


def test_numbers_come_from_their_references(quiz):
    """Every figure in a right answer or an explanation is in a cited document or reference
    (figures the question itself gives, such as a scenario's angle, may be repeated)."""
    have_docs = SOURCE_DIR.is_dir()  # without the documents, check the questions citing none
    doc = {name: _figures((SOURCE_DIR / name).read_text()) for name in SOURCES} if have_docs else {}
    ref = {key: _figures(r.used_for) for key, r in REFERENCES.items()}
    checked = 0
    for q in quiz.questions:
        if not have_docs and any(c in SOURCES for c in q.sources):
            continue
        checked += 1
        allowed = set().union(*(doc.get(c) or ref.get(c, set()) for c in q.sources)) | _figures(q.question)
        allowed |= {y for c in q.sources if c in REFERENCES for y in _figures(c)}  # a study's year
        stray = _figures(" ".join((q.choices[q.answer], q.explanation))) - allowed
        assert not stray, f"{q.id}: {sorted(stray)} not in {q.sources}"
    assert checked >= 10


def test_evidence_and_safety_questions(quiz):
    """The quiz asks about the trials both ways, leaks apart from complications, stop rules,
    fragile ribs as a caution, a thoracic lateral breach and osteoporosis care."""
    by_id = {q.id: q for q in quiz.questions}
    outcome = by_id["outcome_figures"]
    right = outcome.choices[outcome.answer]
    assert "VAPOUR" in right and "no significant benefit" in right
    assert {"Kallmes et al., N Engl J Med 2009 (INVEST)", "Clark et al., Lancet 2016 (VAPOUR)"} <= set(outcome.sources)
    comp = by_id["complications"].choices[by_id["complications"].answer]
    assert "common" in comp and "mostly silent" in comp and "10 %" in comp
    ribs = by_id["contraindication_absolute"]
    assert "rib" not in ribs.choices[ribs.answer] and "caution" in ribs.explanation
    thoracic = by_id["thoracic_lateral_breach"]
    assert "pneumothorax" in thoracic.choices[thoracic.answer] and "segmental artery" in thoracic.choices[thoracic.answer]
    assert "pneumothorax" in by_id["fluoro_lateral_aim"].explanation
    stop = by_id["stop_rules"]
    assert stop.choices[stop.answer].startswith("Stop or pause")
    setting = by_id["cement_setting"].explanation
    assert "two hours" in setting and "not for the cement" in setting and "sedation" in setting
    assert "DXA" in by_id["after_fracture_care"].choices[by_id["after_fracture_care"].answer]
    topics = {q.topic for q in quiz.questions}
    assert {"outcomes", "risks", "consent", "aftercare"} <= topics


# ----------------------------------------------------------------------------- scenarios vs engine


@pytest.fixture(scope="module")
def spine():
    from vp3d.anatomy import build_spine

    return build_spine("T12", "L2", spacing_mm=1.0)


def _needle_finding(spine, n, depth_fraction):
    """What the engine says an image of this needle shows, as a FINDINGS id."""
    from vp3d.needle.path import Needle, assess, plan_trajectory, steer

    traj = steer(spine, plan_trajectory(spine, n.level, n.side),
                 medial_deg=n.medial_deg, caudal_deg=n.caudal_deg)
    depth = depth_fraction * traj.target_depth_mm
    path = [assess(spine, Needle(traj, d))
            for d in np.linspace(traj.pedicle_entry_depth_mm, depth, 24)]
    tip = path[-1]
    breaches = {r.breach for r in path} - {None}
    if tip.medial_line_crossed_early and tip.breach == "medial":
        return "canal_breach_risk"
    if breaches == {"lateral"} and not any(r.medial_line_crossed_early for r in path):
        return "lateral_breach"
    if all(r.safe for r in path):
        if tip.tip_in_body and tip.tip_to_target_mm < 3.0:
            return "safe_at_target"
        if not tip.tip_in_body:
            return "safe_in_pedicle"
    return f"unclassified ({breaches}, crossed={tip.medial_line_crossed_early})"


def _genant_finding(loss):
    if loss < 0.20:
        return "no_fracture"
    return "grade_1" if loss <= 0.25 else "grade_2" if loss <= 0.40 else "grade_3"


def test_scenario_keys_agree_with_the_engine(quiz, spine):
    from vp3d.pathology.fracture import Fracture

    checked = 0
    for q in quiz.questions:
        if not q.is_scenario:
            continue
        assert set(q.choice_ids) <= set(FINDINGS)
        img = q.image
        if img.needle is not None:
            assert img.needle.level in spine.levels
            # The key holds at the image's depth and a little either side (not a knife edge).
            for dd in (-0.02, 0.0, 0.02):
                depth = min(img.needle.depth + dd, 1.0)
                assert _needle_finding(spine, img.needle, depth) == q.answer_id, (q.id, depth)
        else:
            assert img.grade is not None
            loss = Fracture(img.level, img.grade, img.kind).height_loss
            assert _genant_finding(loss) == q.answer_id, q.id
        checked += 1
    assert checked >= 1
    kinds = {q.answer_id for q in quiz.questions if q.is_scenario}
    assert "canal_breach_risk" in kinds  # the medial-line-before-posterior-wall reading


def test_medial_breach_scenario_is_the_twelve_degree_case(quiz):
    q = next(q for q in quiz.questions if q.answer_id == "canal_breach_risk" and q.is_scenario)
    assert q.image.needle.medial_deg == 12 and set(q.image.views) == {"ap", "lateral"}
    assert "12 degrees" in q.question
    assert "AP" in q.image.describe() and "canal" not in q.image.describe()


# ----------------------------------------------------------------------------- grading


def test_grade_all_right_all_wrong_and_partial(quiz):
    right = {q.id: q.answer for q in quiz.questions}
    s = grade(quiz, right)
    assert isinstance(s, Score) and s.correct == s.total == s.answered == len(quiz) and s.percent == 100
    assert all(r.correct and r.explanation and r.sources for r in s.results)

    wrong = {q.id: (q.answer + 1) % len(q.choices) for q in quiz.questions}
    s = grade(quiz, wrong)
    assert s.correct == 0 and s.answered == len(quiz)
    assert all(r.explanation and r.sources and r.chosen != r.answer for r in s.results)

    half = dict(list(right.items())[:5])
    half.update(dict(list(wrong.items())[5:8]))
    s = grade(quiz, half)
    assert (s.correct, s.answered, s.total) == (5, 8, len(quiz))
    assert [r.chosen is None for r in s.results].count(True) == len(quiz) - 8
    assert math.isclose(s.percent, 100 * 5 / len(quiz))
    assert grade(quiz, {}).correct == 0


@pytest.mark.parametrize("answers, message", [
    ({"no_such_question": 0}, "unknown question id"),
    ({"x" * 10_000: 0}, "unknown question id"),
    ({None: 0}, "unknown question id"),
    ({"commonest_cause": 99}, "choice 99 is out of range"),
    ({"commonest_cause": -1}, "choice -1 is out of range"),
    ({"commonest_cause": float("nan")}, "must be an integer"),
    ({"commonest_cause": 1.0}, "must be an integer"),
    ({"commonest_cause": "1"}, "must be an integer"),
    ({"commonest_cause": True}, "must be an integer"),
    ({"commonest_cause": [0]}, "must be an integer"),
    ({"commonest_cause": None}, "must be an integer"),
    ([("commonest_cause", 0)], "must be a mapping"),
    ("commonest_cause=0", "must be a mapping"),
])
def test_grade_rejects_bad_input(quiz, answers, message):
    with pytest.raises(AnswerError, match=message) as err:
        grade(quiz, answers)
    assert isinstance(err.value, ValueError)
    text = str(err.value)
    assert "\n" not in text and len(text) < 400


def test_grade_accepts_numpy_integers(quiz):
    assert grade(quiz, {"commonest_cause": np.int64(0)}).correct == 1


# ----------------------------------------------------------------------------- broken files


def _question(i: int) -> dict:
    return {"id": f"q{i}", "topic": "causes", "question": f"Question {i}?",
            "choices": ["a", "b", "c"], "answer": 0, "explanation": "Because.",
            "sources": ["002_d69a0bc012a0d9ed.txt"]}


def _scenario() -> dict:
    return {"id": "scan", "topic": "needle", "question": "What does it show?",
            "image": {"view": ["ap", "lateral"], "needle": {"level": "L1", "side": "right", "medial_deg": 12}},
            "choices": [{"id": "safe_in_pedicle", "text": "safe"},
                        {"id": "canal_breach_risk", "text": "breach"},
                        {"id": "lateral_breach", "text": "lateral"}],
            "answer": "canal_breach_risk", "explanation": "Because.",
            "sources": ["Mathis et al., AJNR Am J Neuroradiol 2001"]}


def _doc() -> dict:
    return {"quiz": "t", "title": "T", "questions": [_question(i) for i in range(10)] + [_scenario()]}


def _write(tmp_path, doc, text=None):
    p = tmp_path / "quiz.yaml"
    p.write_text(text if text is not None else yaml.safe_dump(doc, sort_keys=False), encoding="utf-8")
    return p


def test_minimal_file_loads(tmp_path):
    q = load_quiz(_write(tmp_path, _doc()))
    assert len(q) == 11 and q.question("scan").answer == 1 and q.question("scan").answer_id == "canal_breach_risk"


def _q(d, qid):
    return next(q for q in d["questions"] if q["id"] == qid)


BROKEN = {
    "unknown top key": (lambda d: d.update(extra=1), None, "extra", "unknown key 'extra'"),
    "unknown question key": (lambda d: _q(d, "q3").update(hint="x"), "q3", "hint", "unknown key 'hint'"),
    "missing explanation": (lambda d: _q(d, "q2").pop("explanation"), "q2", "explanation",
                            "missing required key"),
    "answer out of range": (lambda d: _q(d, "q1").update(answer=3), "q1", "answer", "3 is out of range"),
    "answer a bool": (lambda d: _q(d, "q1").update(answer=True), "q1", "answer", "choice index"),
    "unknown answer id": (lambda d: _q(d, "scan").update(answer="nope"), "scan", "answer", "unknown choice id"),
    "too few choices": (lambda d: _q(d, "q1").update(choices=["a", "b"]), "q1", "choices", "3 to 5"),
    "duplicate id": (lambda d: _q(d, "q5").update(id="q4"), "q4", "questions[5].id", "duplicate question id"),
    "unknown source": (lambda d: _q(d, "q6").update(sources=["wikipedia"]), "q6", "sources[0]",
                       "unknown source 'wikipedia'"),
    "no sources": (lambda d: _q(d, "q6").update(sources=[]), "q6", "sources", "non-empty list"),
    "fact not in its sources": (lambda d: _q(d, "q6").update(facts=["kyphoplasty"]), "q6", "facts[0]",
                                "cite at least one"),
    "unknown topic": (lambda d: _q(d, "q7").update(topic="gossip"), "q7", "topic", "unknown topic"),
    "too few questions": (lambda d: d.update(questions=d["questions"][:9]), None, "questions",
                          "at least 10"),
    "bad view": (lambda d: _q(d, "scan")["image"].update(view="oblique"), "scan", "image.view", "ap or lateral"),
    "unknown level": (lambda d: _q(d, "scan")["image"]["needle"].update(level="L9"), "scan",
                      "image.needle.level", "unknown level"),
    "angle out of range": (lambda d: _q(d, "scan")["image"]["needle"].update(medial_deg=1e9), "scan",
                           "image.needle.medial_deg", "outside -45 to 45"),
    "NaN depth": (lambda d: _q(d, "scan")["image"]["needle"].update(depth=float("nan")), "scan",
                  "image.needle.depth", "finite number"),
    "bad side": (lambda d: _q(d, "scan")["image"]["needle"].update(side="up"), "scan",
                 "image.needle.side", "unknown side"),
    "bad grade": (lambda d: _q(d, "scan")["image"].update(grade=4), "scan", "image.grade", "1, 2 or 3"),
    "negative cement": (lambda d: _q(d, "scan")["image"].update(cement_ml=-1), "scan", "image.cement_ml",
                        "outside 0 to 12"),
    "unknown image key": (lambda d: _q(d, "scan")["image"].update(zoom=2), "scan", "image.zoom",
                          "unknown key 'zoom'"),
    "empty image": (lambda d: _q(d, "scan").update(image={"view": "ap"}), "scan", "image",
                    "must show something"),
    "scenario choice not a finding": (lambda d: _q(d, "scan")["choices"][0].update(id="maybe"), "scan",
                                      "choices[0].id", "unknown finding"),
    "scenario without choice ids": (lambda d: _q(d, "scan").update(choices=["a", "b", "c"], answer=1),
                                    "scan", "choices", "need ids"),
    # A typo'd key is named (with the key it was likely meant to be) before the key it leaves missing.
    "typo'd question key": (lambda d: _q(d, "q2").update(explanaton=_q(d, "q2").pop("explanation")), "q2",
                            "explanaton", "unknown key 'explanaton'; did you mean 'explanation'?"),
    "typo'd needle key": (lambda d: _q(d, "scan")["image"]["needle"].update(medial=3), "scan",
                          "image.needle.medial", "did you mean 'medial_deg'?"),
    "wrong type: number for text": (lambda d: _q(d, "q3").update(question=3), "q3", "question",
                                    "must be text, got int 3"),
    "wrong type: text for a number": (lambda d: _q(d, "scan")["image"]["needle"].update(depth="deep"), "scan",
                                      "image.needle.depth", "must be a finite number, got str 'deep'"),
    "wrong type: text for a list": (lambda d: _q(d, "q4").update(sources="002_d69a0bc012a0d9ed.txt"), "q4",
                                    "sources", "must be a list, got str"),
    "wrong type: list for a mapping": (lambda d: _q(d, "scan").update(image=["ap"]), "scan", "image",
                                       "must be a mapping, got list"),
    "missing sources": (lambda d: _q(d, "q5").pop("sources"), "q5", "sources", "missing required key 'sources'"),
    "missing needle level": (lambda d: _q(d, "scan")["image"]["needle"].pop("level"), "scan",
                             "image.needle.level", "missing required key 'level'"),
    "missing title": (lambda d: d.pop("title"), None, "title", "missing required key 'title'"),
}


@pytest.mark.parametrize("case", list(BROKEN))
def test_broken_file_gives_one_line_message(tmp_path, case):
    mutate, qid, field, message = BROKEN[case]
    doc = copy.deepcopy(_doc())
    mutate(doc)
    path = _write(tmp_path, doc)
    with pytest.raises(QuizError, match=message) as err:
        load_quiz(path)
    text = str(err.value)
    assert isinstance(err.value, ValueError) and "\n" not in text
    assert text.startswith(str(path) + ": ")
    if qid is not None:
        assert f"question {qid!r}" in text and err.value.question == qid
    assert f": {field}: " in text and err.value.field == field


@pytest.mark.parametrize("text, message", [
    ("quiz: t\nquestions: [\n", "malformed YAML"),
    ("quiz: t\nquiz: u\n", "duplicate key 'quiz'"),
    ("- just a list\n", "must hold a mapping"),
])
def test_malformed_yaml(tmp_path, text, message):
    path = _write(tmp_path, None, text)
    with pytest.raises(QuizError, match=message) as err:
        load_quiz(path)
    assert "\n" not in str(err.value) and str(path) in str(err.value)


def test_missing_file(tmp_path):
    with pytest.raises(QuizError, match="cannot read the file"):
        load_quiz(tmp_path / "absent.yaml")
