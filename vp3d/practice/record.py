"""The record of one practice run: what happened, as plain values, for the score to read.

A :class:`RunRecord` holds no model and no arrays: :func:`vp3d.practice.score.score_run` is a
pure function of it, so a score can be tested on a record written by hand.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

#: Smallest leak the readout reports and the score counts (mL): a trace the simulated images
#: show (teaching target).
LEAK_VISIBLE_ML = 0.01
#: Cement goes in in whole steps of this (mL): the practice's injections, and the score's
#: "one step more after a leak is still stopping".
CEMENT_STEP_ML = 0.5
#: Leak kinds that run in a vein: the basivertebral vein (Yeom type B, draining into the
#: anterior epidural venous plexus in the canal) and the segmental veins (type S, towards the
#: vena cava and the lungs). Any visible amount means stop or pause (CIRSE 2017).
VENOUS_LEAK_KINDS = ("venous", "venous/paravertebral")
#: A posterior wall defect straight into the epidural space: reaches the canal.
CANAL_LEAK_KINDS = ("epidural/canal",)


@dataclass(frozen=True)
class LeakSeen:
    """One cement leak at the end of the run (as :class:`vp3d.cement.Leak` names it)."""

    kind: str
    volume_ml: float
    yeom_type: str


@dataclass(frozen=True)
class TipRecord:
    """Where the tip was when it was judged: at the first injection, else at the end."""

    in_body: bool
    to_target_mm: float  # straight-line distance from the tip to the planned target
    body_depth_fraction: float  # 0 posterior wall, 1 anterior wall of the body
    through_front_wall: bool = False  # out through the body's front wall at that moment


@dataclass(frozen=True)
class RunRecord:
    """Everything the score reads about one run (see :func:`vp3d.practice.score.score_run`)."""

    level: str
    route: str  # "transpedicular" or "parapedicular"
    tip: TipRecord
    breaches: frozenset = frozenset()  # pedicle walls crossed: "medial", "lateral", ...
    min_clearance_mm: float = math.inf  # closest the needle came to a wall (inf before bone)
    crossed_early: bool = False  # medial pedicle line crossed on AP before the body on lateral
    anterior_past_mm: float | None = None  # furthest the tip went past the body's front wall
    needle_outer_diameter_mm: float = 3.05  # 11 gauge
    shots: int = 0
    cement_ml: float = 0.0
    first_leak_ml: float | None = None
    first_venous_ml: float | None = None  # cement in when a vein first showed cement
    leaks: tuple[LeakSeen, ...] = field(default_factory=tuple)

    @property
    def visible_leaks(self) -> tuple[LeakSeen, ...]:
        """Leaks of at least :data:`LEAK_VISIBLE_ML` (smaller ones the images do not show)."""
        return tuple(lk for lk in self.leaks if lk.volume_ml >= LEAK_VISIBLE_ML)
