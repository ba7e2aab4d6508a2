"""Speed of the student's practice (vp3d.practice.run) at the page's image size.

Run: ``python bench/practice.py [--rows 256] [--level L1] [--shots DIR]`` (about half a minute).
Prints milliseconds for one needle step with both views re-imaged (target: a step change seen
in the page within 300 ms, DESIGN.md), for each 0.5 mL cement step (the first one simulates the
fill from the student's needle), and for turning the C-arm to a new angle, each with its ratio
to the target. ``--shots DIR`` also saves AP | lateral PNGs of the planned path, the docking
point, a medial breach, a posterior tip that leaks and an overfilled body.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from vp3d.practice.run import Practice  # noqa: E402
from vp3d.procedure.case import Choices, ProcedureModel  # noqa: E402

STEP_TARGET_MS = 300.0  # a step change seen in the page (DESIGN.md budgets)
NEW_ANGLE_TARGET_MS = 150.0  # a new fluoroscopy angle (DESIGN.md, there for 512 x 512)


def timed(function) -> float:
    """Milliseconds one call of ``function`` takes."""
    start = time.perf_counter()
    function()
    return 1000.0 * (time.perf_counter() - start)


def line(name: str, values_ms: list[float], target_ms: float) -> None:
    """Print median and worst of ``values_ms`` and their ratio to ``target_ms``."""
    median, worst = statistics.median(values_ms), max(values_ms)
    print(f"{name:<44} median {median:7.1f} ms  worst {worst:7.1f} ms  "
          f"worst/target {worst / target_ms:5.2f} (target {target_ms:g} ms, n={len(values_ms)})")


def to_depth(p: Practice, depth_mm: float, step_mm: float = 10.0) -> None:
    """Advance in steps to ``depth_mm`` (no images)."""
    while p.depth_mm + step_mm <= depth_mm + 1e-9:
        p.advance(step_mm)
    if depth_mm - p.depth_mm >= 0.5:
        p.advance(depth_mm - p.depth_mm)


def save(directory: Path, name: str, images: dict) -> None:
    """AP | lateral side by side as one PNG."""
    from PIL import Image

    ap, lateral = images["ap"], images["lateral"]
    gap = np.full((ap.shape[0], 4), 255, np.uint8)
    Image.fromarray(np.concatenate([ap, gap, lateral], axis=1)).save(directory / f"{name}.png")


def shots(model: ProcedureModel, directory: Path) -> None:
    """Save the teaching pictures (see the module docstring)."""
    directory.mkdir(parents=True, exist_ok=True)
    p = Practice(model)
    target = p.trajectory().target_depth_mm
    save(directory, "00_needle_on_skin", p.images())
    to_depth(p, p.bone_entry_depth_mm() + 1.0)
    save(directory, "01_docked", p.images())
    to_depth(p, target)
    save(directory, "02_planned_target", p.images())
    p.inject(2.0)
    p.inject(1.0)
    save(directory, "03_planned_3ml", p.images())
    while p.cement_ml < 8.0:
        p.inject(min(2.0, 8.0 - p.cement_ml))
    save(directory, "04_overfilled_8ml", p.images())
    print("overfilled:", p.leaks())
    p.reset()
    p.set_aim(medial_deg=p.aim.medial_deg + 12.0)
    to_depth(p, target)
    save(directory, "05_medial_breach_12deg", p.images())
    print("medial +12 deg:", p.safety())
    p.reset()
    p.set_aim(medial_deg=p.aim.medial_deg + 3.0)
    to_depth(p, target - 25.0)
    for _ in range(4):
        p.inject(1.0)
    save(directory, "06_posterior_tip_venous_leak", p.images())
    print("posterior tip, 4 mL:", p.leaks())
    p.rotate("ap", lao_deg=25.0, cranial_deg=10.0)
    save(directory, "07_oblique_ap", p.images())
    print(f"PNGs in {directory}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=256, help="detector rows and columns (default 256)")
    parser.add_argument("--level", default="L1")
    parser.add_argument("--shots", type=Path, help="also save AP | lateral PNGs to this folder")
    args = parser.parse_args()
    print(f"{os.cpu_count()} CPU cores; level {args.level}, grade 2 wedge, {args.rows} x {args.rows} images")
    start = time.perf_counter()
    model = ProcedureModel(Choices(level=args.level), rows=args.rows)
    print(f"ProcedureModel built in {time.perf_counter() - start:.1f} s (shared, not part of the targets)")

    p = Practice(model)
    cold = timed(p.images)
    print(f"{'first images (both anatomy projections)':<44} {cold:7.1f} ms  "
          f"ratio {cold / STEP_TARGET_MS:5.2f} of {STEP_TARGET_MS:g} ms")
    steps = []
    target = p.trajectory().target_depth_mm
    while p.depth_mm + 5.0 <= target:
        steps.append(timed(lambda: (p.advance(5.0), p.images())))
    line("advance 5 mm + images() AP and lateral", steps, STEP_TARGET_MS)
    to_depth(p, target)
    first = timed(lambda: (p.inject(0.5), p.images()))
    print(f"{'first inject 0.5 mL (simulates 8 mL) + images':<44} {first:7.1f} ms  "
          f"ratio {first / STEP_TARGET_MS:5.2f} of {STEP_TARGET_MS:g} ms")
    more = [timed(lambda: (p.inject(0.5), p.images())) for _ in range(9)]
    line("next inject 0.5 mL + images()", more, STEP_TARGET_MS)
    turns = []
    for lao, tilt in ((10, 0), (20, 5), (30, 10), (-15, -5), (-30, 15)):
        turns.append(timed(lambda: (p.rotate("ap", lao_deg=lao, cranial_deg=tilt), p.images())))
    line("rotate AP to a new angle + images()", turns, STEP_TARGET_MS)
    print(f"{'':<44} worst/new-angle budget {max(turns) / NEW_ANGLE_TARGET_MS:5.2f} "
          f"(DESIGN.md {NEW_ANGLE_TARGET_MS:g} ms at 512 x 512)")
    second = Practice(model)
    shared = timed(second.images)
    print(f"a second session's first images (shared projections) {shared:7.1f} ms")
    print(f"shots counted in the timed run: {p.shots}")
    if args.shots:
        shots(model, args.shots)


if __name__ == "__main__":
    main()
