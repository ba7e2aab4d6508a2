"""What the page reads out during a run: the needle's depth, the tip's place, and any alert.

Two distances, defined once and used everywhere:

* **depth**: how far the tip has gone along the needle from the skin entry (mm);
* **distance to the target**: the straight line from the tip to the planned target (mm).

When the needle's line passes through the target the two agree (the distance is the depth
still to go); after a re-aim the line may miss the target, and the readout then says by how
much instead of quoting a "target depth" the tip can never reach.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from vp3d.anatomy.volume import Label
from vp3d.needle.path import PARAPEDICULAR_LEVELS
from vp3d.practice.record import LEAK_VISIBLE_ML

#: The needle's line counts as passing through the target when it misses it by at most this
#: (mm): the tip can reach the target by advancing alone.
ON_LINE_MM = 2.0
#: An alert for each structure the tip must never enter, in plain words.
TIP_DANGER = {
    Label.CANAL: "The tip is in the spinal canal, beside the spinal cord and nerves. Withdraw at once.",
    Label.LUNG: "The tip is through the pleura into the lung: risk of a collapsed lung (pneumothorax). "
                "Withdraw.",
    Label.BLOOD: "The tip is in the aorta, the vena cava or the heart. Withdraw at once.",
    Label.DISC: "The tip is in the intervertebral disc, past the end plate. Withdraw into the body.",
    Label.ORGAN: "The tip is in an organ in front of the spine (liver, kidney or bowel). Withdraw.",
    Label.GAS: "The tip is in the bowel. Withdraw.",
}


@dataclass(frozen=True)
class TargetDistances:
    """Where the target is from the needle now (see the module docstring), mm."""

    depth_mm: float  # the tip's depth along the needle from the skin entry
    to_target_mm: float  # straight line, tip to target
    target_depth_mm: float  # depth along this line closest to the target
    miss_mm: float  # the line's closest distance to the target (0: straight through it)

    @property
    def on_line(self) -> bool:
        """True when advancing (or withdrawing) alone brings the tip to the target."""
        return self.miss_mm <= ON_LINE_MM


def target_distances(trajectory, depth_mm: float) -> TargetDistances:
    """Depth, distance to the target and the line's miss for a needle at ``depth_mm``."""
    entry = np.asarray(trajectory.skin_entry_mm, float)
    d = np.asarray(trajectory.direction, float)
    target = np.asarray(trajectory.target_mm, float)
    along = float(np.dot(target - entry, d))
    miss = float(np.linalg.norm(target - (entry + along * d)))
    tip = entry + depth_mm * d
    return TargetDistances(float(depth_mm), float(np.linalg.norm(target - tip)), along, miss)


def depth_lines(trajectory, depth_mm: float) -> list[dict]:
    """Readout lines for the depth and the target, consistent with each other."""
    t = target_distances(trajectory, depth_mm)
    lines = [{"text": f"Depth {t.depth_mm:.0f} mm from the skin entry", "kind": "info"}]
    if not t.on_line:
        lines.append({"text": f"This line misses the target by {t.miss_mm:.0f} mm: re-aim to reach it",
                      "kind": "warning"})
    elif t.target_depth_mm - t.depth_mm >= 0.5:
        lines.append({"text": f"Target {t.target_depth_mm:.0f} mm deep: "
                              f"{t.target_depth_mm - t.depth_mm:.0f} mm to go", "kind": "info"})
    elif t.depth_mm - t.target_depth_mm >= 0.5:
        lines.append({"text": f"Target {t.target_depth_mm:.0f} mm deep: the tip is "
                              f"{t.depth_mm - t.target_depth_mm:.0f} mm past it", "kind": "warning"})
    return lines


def readout(p, report) -> tuple[list[dict], str]:
    """Lines for the readout panel (``{"text", "kind"}``) and the breach alert ("" if none).

    ``p`` is a :class:`vp3d.practice.run.Practice`, ``report`` its :meth:`safety` now.
    """
    lines = depth_lines(p.trajectory(), p.depth_mm)
    alert = ""
    if p.depth_mm <= 0:
        lines.append({"text": "Needle at the skin: aim, then advance", "kind": "info"})
    else:
        to_target = target_distances(p.trajectory(), p.depth_mm).to_target_mm
        lines.append({"text": f"Tip {p.tip_place()}, {to_target:.1f} mm from the target", "kind": "info"})
        if report.tip_in_body:
            lines.append({"text": "Tip in the vertebral body", "kind": "good"})
        if report.wall_clearance_mm != float("inf"):
            kind = "good" if report.wall_clearance_mm > 1.0 else "warning"
            if report.breach is None:
                lines.append({"text": f"Pedicle wall clearance {report.wall_clearance_mm:.1f} mm", "kind": kind})
    danger = TIP_DANGER.get(p.tip_label()) if p.depth_mm > 0 else None
    through_front = p.anterior_breach()
    if danger or through_front:
        # Every structure the tip is in or through is named: the front wall, then what lies there.
        parts = [("The tip is through the front wall of the vertebral body: the aorta and the vena "
                  "cava lie in front of it. Withdraw into the body.") if through_front else "", danger or ""]
        alert = " ".join(part for part in parts if part)
    elif report.breach == "lateral" and p.route == "parapedicular":
        lines.append({"text": "Lateral to the pedicle, as planned for the parapedicular route", "kind": "info"})
    elif report.breach:
        alert = (f"{report.breach.capitalize()} pedicle wall breached "
                 f"({-report.wall_clearance_mm:.1f} mm through the cortex)")
        if report.breach == "medial":
            alert += ": the spinal canal is next. Withdraw and re-aim."
        elif report.breach == "lateral" and p.level in PARAPEDICULAR_LEVELS:
            alert += (": the pleura and the segmental artery lie beside a thoracic pedicle. "
                      "Withdraw and re-aim, or plan a parapedicular route.")
        else:
            alert += ". Withdraw and re-aim."
    elif report.medial_line_crossed_early:
        alert = ("On AP the tip is medial to the pedicle's inner edge before, on lateral, it has "
                 "reached the back of the vertebral body: it may be in the spinal canal.")
    if p.cement_ml > 0:
        leaks = [leak for leak in p.leaks() if leak.volume_ml >= LEAK_VISIBLE_ML]
        lines.append({"text": f"Cement {p.cement_ml:.1f} mL", "kind": "info"})
        veins = p.venous_leaks()
        for leak in leaks:
            lines.append({"text": f"Leak ({leak.kind}, Yeom type {leak.yeom_type}): {leak.volume_ml:.2f} mL",
                          "kind": "warning"})
        if veins and not alert:
            types = "/".join(sorted({leak.yeom_type for leak in veins}))
            alert = (f"Cement is in a vein (Yeom type {types}): stop or pause the injection. Resume only "
                     "once it has thickened, or reposition the needle.")
        if not leaks:
            lines.append({"text": "No cement leak", "kind": "good"})
    lines.append({"text": f"Fluoroscopy images taken: {p.shots}", "kind": "info"})
    return lines, alert
