"""The practice score as a pure function of a run's record: records written by hand, no model."""

from __future__ import annotations

import dataclasses
import math

import pytest

from vp3d.practice.record import LEAK_VISIBLE_ML, LeakSeen, RunRecord, TipRecord
from vp3d.practice.score import (
    CEMENT_STRENGTH_ML,
    SHOTS_ACCEPTABLE,
    SHOTS_GOOD,
    TIP_ACCEPTABLE_MM,
    TIP_GOOD_MM,
    VERDICTS,
    PracticeScore,
    score_run,
)

ITEMS = ("pedicle breach", "tip position", "fluoroscopy shots", "cement volume", "cement leaks")
#: A clean run at L1: tip in the anterior third near the target, 30 images, 3 mL, no leak.
CLEAN = RunRecord(level="L1", route="transpedicular", tip=TipRecord(True, 1.5, 0.8),
                  min_clearance_mm=2.4, shots=30, cement_ml=3.0)


def run(**changes) -> RunRecord:
    return dataclasses.replace(CLEAN, **changes)


def test_a_clean_record_is_good_on_every_item():
    score = score_run(CLEAN)
    assert isinstance(score, PracticeScore)
    assert tuple(i.name for i in score.items) == ITEMS
    assert [i.verdict for i in score.items] == ["good"] * 5 and score.verdict == "good"
    assert score.item("pedicle breach").value == "none (closest wall 2.4 mm)"
    assert score.item("tip position").value == "1.5 mm from the target, anterior third"
    assert score.item("cement volume").value == "3 mL" and score.item("cement leaks").value == "none"
    rows = score.rows()
    assert len(rows) == 5 and set(rows[0]) >= {"name", "value", "good", "verdict", "reference", "advice"}
    for item in score.items:
        assert item.reference and item.good and item.verdict in VERDICTS
    with pytest.raises(ValueError, match="no score item 'style'; items: pedicle breach"):
        score.item("style")


def test_the_overall_verdict_is_the_worst_item():
    assert score_run(run(shots=SHOTS_GOOD + 1)).verdict == "acceptable"
    assert score_run(run(shots=SHOTS_ACCEPTABLE + 1, breaches=frozenset({"medial"}))).verdict == "needs work"
    assert PracticeScore(()).verdict == "good"


@pytest.mark.parametrize("shots, verdict", [(SHOTS_GOOD, "good"), (SHOTS_GOOD + 1, "acceptable"),
                                            (SHOTS_ACCEPTABLE, "acceptable"), (SHOTS_ACCEPTABLE + 1, "needs work")])
def test_shots_thresholds(shots, verdict):
    item = score_run(run(shots=shots)).item("fluoroscopy shots")
    assert item.verdict == verdict and item.value == f"{shots} images" and item.number == shots


@pytest.mark.parametrize("tip, verdict", [
    (TipRecord(True, TIP_GOOD_MM, 0.7), "good"),
    (TipRecord(True, TIP_GOOD_MM + 0.1, 0.7), "acceptable"),  # too far from the target for good
    (TipRecord(True, 2.0, 0.6), "acceptable"),  # middle third, anterior half
    (TipRecord(True, TIP_ACCEPTABLE_MM + 0.1, 0.9), "needs work"),
    (TipRecord(True, 2.0, 0.4), "needs work"),  # posterior half
    (TipRecord(False, 2.0, 0.9), "needs work"),  # not in the body
])
def test_tip_thresholds(tip, verdict):
    assert score_run(run(tip=tip)).item("tip position").verdict == verdict


def test_tip_words_say_where_it_is():
    value = lambda tip: score_run(run(tip=tip)).item("tip position").value  # noqa: E731
    assert value(TipRecord(True, 3.0, 0.5)).endswith("middle third")
    assert value(TipRecord(True, 3.0, 0.1)).endswith("posterior third")
    assert value(TipRecord(False, 25.0, 1.2)).endswith("past the anterior wall")
    assert value(TipRecord(False, 25.0, 0.9, through_front_wall=True)).endswith("past the anterior wall")
    assert value(TipRecord(False, 60.0, -0.5)).endswith("not in the body")


def test_breaches_medial_lateral_planned_and_anterior():
    medial = score_run(run(breaches=frozenset({"medial"}), min_clearance_mm=-1.2)).item("pedicle breach")
    assert medial.verdict == "needs work" and medial.value.startswith("medial breach (needle 1.2 mm")
    assert "canal" in medial.advice
    lumbar = score_run(run(breaches=frozenset({"lateral"}), min_clearance_mm=-0.5)).item("pedicle breach")
    assert lumbar.verdict == "needs work" and "lumbar spine" in lumbar.advice
    thoracic = run(level="T8", breaches=frozenset({"lateral"}), min_clearance_mm=-0.5)
    item = score_run(thoracic).item("pedicle breach")
    assert item.verdict == "needs work" and "pneumothorax" in item.advice
    planned = score_run(dataclasses.replace(thoracic, route="parapedicular")).item("pedicle breach")
    assert planned.verdict == "good" and "as planned" in planned.value and "parapedicular" in planned.good
    early = score_run(run(crossed_early=True)).item("pedicle breach")
    assert early.verdict == "needs work" and "medial edge on AP" in early.value
    front = score_run(run(anterior_past_mm=7.25)).item("pedicle breach")
    assert front.verdict == "needs work" and "7.2 mm past it" in front.value and "front wall" in front.advice
    untouched = score_run(run(min_clearance_mm=math.inf)).item("pedicle breach")
    assert untouched.value == "none (needle not yet past the bony entry)" and untouched.number is None


def test_cement_volume_and_stopping_at_a_leak():
    volume = lambda **kw: score_run(run(**kw)).item("cement volume")  # noqa: E731
    assert volume(cement_ml=0.0).verdict == "needs work" and volume(cement_ml=0.0).value == "none injected"
    assert volume(cement_ml=CEMENT_STRENGTH_ML).verdict == "good"
    assert volume(cement_ml=8.0).verdict == "acceptable"  # more than the 4 mL that stiffens L1
    stopped = volume(cement_ml=1.0, first_leak_ml=1.0)
    assert stopped.verdict == "acceptable" and "stopping at a leak is correct" in stopped.advice
    one_more = volume(cement_ml=1.5, first_leak_ml=1.0)  # one more step while checking: still stopping
    assert one_more.verdict == "acceptable"
    went_on = volume(cement_ml=1.5, first_leak_ml=0.5)  # two steps past the first leak
    assert went_on.verdict == "needs work" and "a leak appeared at 0.5 mL" in went_on.advice


def test_leaks_venous_canal_and_small():
    vein = LeakSeen("venous", 0.05, "B")
    leaks = lambda **kw: score_run(run(**kw)).item("cement leaks")  # noqa: E731
    stopped = leaks(leaks=(vein,), first_leak_ml=2.0, first_venous_ml=3.0)
    assert stopped.verdict == "acceptable" and "you stopped, which is right" in stopped.advice
    went_on = leaks(leaks=(vein,), first_leak_ml=2.0, first_venous_ml=2.0)
    assert went_on.verdict == "needs work" and "the injection went on to 3 mL" in went_on.advice
    canal = leaks(leaks=(LeakSeen("epidural/canal", 0.02, "C"),), first_leak_ml=3.0)
    assert canal.verdict == "needs work" and "canal" in canal.advice
    small = leaks(leaks=(LeakSeen("disc", 0.2, "C"),), first_leak_ml=2.5)
    assert small.verdict == "acceptable" and small.number == 0.2
    big = leaks(leaks=(LeakSeen("disc", 0.4, "C"), LeakSeen("paravertebral", 0.3, "C")), first_leak_ml=2.5)
    assert big.verdict == "needs work" and "0.70 mL leaked in all" in big.advice
    trace = leaks(leaks=(LeakSeen("disc", LEAK_VISIBLE_ML / 2, "C"),))  # below what the images show
    assert trace.verdict == "good" and trace.value == "none"
    assert leaks(cement_ml=0.0).value == "none (no cement injected)"
