"""What the practice page reads out: depth and distance defined once and consistent, the tip's
place in words that read well, and the alerts (pure functions; a stand-in needle, no model)."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest

from vp3d.anatomy.volume import Label
from vp3d.practice.readout import ON_LINE_MM, depth_lines, readout, target_distances
from vp3d.practice.tip import OUTSIDE_WORDS, tip_place, tissue_words


def line(entry, direction, target):
    d = np.asarray(direction, float)
    return SimpleNamespace(skin_entry_mm=np.asarray(entry, float), direction=d / np.linalg.norm(d),
                           target_mm=np.asarray(target, float))


STRAIGHT = line((0, 0, 0), (0, 1, 0), (0, 80, 0))  # the target 80 mm deep on the line
MISSING = line((0, 0, 0), (0.6, 0.8, 0), (0, 80, 0))  # re-aimed 37 degrees off


def test_distances_on_a_line_through_the_target_agree():
    t = target_distances(STRAIGHT, 30.0)
    assert t.on_line and t.miss_mm == pytest.approx(0.0)
    assert t.target_depth_mm == pytest.approx(80.0) and t.to_target_mm == pytest.approx(50.0)
    assert [x["text"] for x in depth_lines(STRAIGHT, 30.0)] == ["Depth 30 mm from the skin entry",
                                                               "Target 80 mm deep: 50 mm to go"]
    assert [x["text"] for x in depth_lines(STRAIGHT, 95.0)] == ["Depth 95 mm from the skin entry",
                                                               "Target 80 mm deep: the tip is 15 mm past it"]
    assert [x["text"] for x in depth_lines(STRAIGHT, 80.0)] == ["Depth 80 mm from the skin entry"]


def test_a_line_that_misses_the_target_says_so_instead_of_a_target_depth():
    """After a steep re-aim the page read "Depth 140 mm of 47 mm to the target" beside "137 mm
    from the target": the closest-approach depth is not a depth the tip can reach the target at."""
    t = target_distances(MISSING, 140.0)
    assert not t.on_line and t.miss_mm == pytest.approx(48.0)
    tip = np.array([0.6, 0.8, 0.0]) * 140.0
    assert t.to_target_mm == pytest.approx(np.linalg.norm(tip - (0, 80, 0)))
    texts = [x["text"] for x in depth_lines(MISSING, 140.0)]
    assert texts == ["Depth 140 mm from the skin entry", "This line misses the target by 48 mm: re-aim to reach it"]
    assert not any(" of " in text for text in texts)
    # Just inside the on-line tolerance, the target depth is given again.
    near = line((0, 0, 0), (ON_LINE_MM * 0.9 / 80.0, 1.0, 0), (0, 80, 0))
    assert target_distances(near, 10.0).on_line


@pytest.mark.parametrize("label, words", [(None, "outside the imaged box"), (Label.FAT, "in fat"),
                                          (Label.SKIN, "in skin"), (Label.LUNG, "in lung, through the pleura")])
def test_the_tip_place_reads_as_a_phrase(label, words):
    assert tip_place(label) == words
    assert tissue_words(None) == OUTSIDE_WORDS


class _Run:
    """A stand-in practice: what :func:`readout` reads."""

    def __init__(self, depth_mm, label, trajectory=STRAIGHT):
        self.depth_mm, self._label, self._trajectory = depth_mm, label, trajectory
        self.cement_ml, self.shots, self.route, self.level = 0.0, 4, "transpedicular", "L1"

    def trajectory(self):
        return self._trajectory

    def tip_label(self):
        return self._label

    def tip_place(self):
        return tip_place(self._label)

    def anterior_breach(self):
        return False

    def leaks(self):
        return []

    def venous_leaks(self):
        return []


def _report(**changes):
    base = dict(wall_clearance_mm=float("inf"), breach=None, medial_line_crossed_early=False,
                tip_in_body=False, tip_to_target_mm=0.0)
    return SimpleNamespace(**{**base, **changes})


def test_readout_outside_the_box_and_in_the_canal():
    lines, alert = readout(_Run(140.0, None, MISSING), _report())
    texts = [x["text"] for x in lines]
    assert texts[0] == "Depth 140 mm from the skin entry"
    to_target = target_distances(MISSING, 140.0).to_target_mm
    assert f"Tip outside the imaged box, {to_target:.1f} mm from the target" in texts
    assert not any("Tip in outside" in text for text in texts) and alert == ""
    lines, alert = readout(_Run(60.0, Label.CANAL), _report(breach="medial", wall_clearance_mm=-2.0))
    assert alert.startswith("The tip is in the spinal canal")
    assert "Tip in spinal canal, 20.0 mm from the target" in [x["text"] for x in lines]
    lines, alert = readout(_Run(0.0, Label.SKIN), _report())
    assert [x["text"] for x in lines][1:3] == ["Target 80 mm deep: 80 mm to go", "Needle at the skin: aim, then advance"]
    assert lines[-1]["text"] == "Fluoroscopy images taken: 4"
