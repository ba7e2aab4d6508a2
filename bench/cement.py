"""Cement simulation speed on the T12-L2 volume at 0.5 mm (osteoporotic), planned L1 needle.

Run: ``python bench/cement.py`` (about half a minute). Prints seconds for a 3 mL and an 8 mL
simulation (median of a few runs, each a new seed, at three viscosities for 3 mL) against the
3 mL budget of DESIGN.md (<= 2 s on 2 cores), then the per-frame costs once simulated: mask,
mesh and line integrals of one fill level. ``--png PATH`` also renders the fill at 3 and 8 mL
inside the L1 mesh (lateral, AP and axial views; needs offscreen VTK, e.g.
``VTK_DEFAULT_OPENGL_WINDOW=vtkEGLRenderWindow``); ``--bipedicular`` uses two needles.
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from vp3d.anatomy import build_spine  # noqa: E402
from vp3d.cement import simulate_injection  # noqa: E402
from vp3d.fluoro import CArm  # noqa: E402

SPACING_MM = 0.5
TARGET_3ML_S = 2.0  # DESIGN.md budget: 3 mL cement simulation
FRAME_TARGET_MS = 20.0  # DESIGN.md budget: fluoroscopy frame while the cement moves
REPEATS = 3


def planned_needles(spine, bipedicular: bool):
    """The needle planner's L1 needle(s) at the target, or a stand-in when it is missing."""
    try:
        from vp3d.needle.path import Needle, plan_trajectory
    except ImportError:  # pragma: no cover - only before vp3d.needle.path existed
        from types import SimpleNamespace

        tip = np.array([0.0, 10.8, 0.5])
        hub = tip + 150.0 * np.array([0.19, -0.98, 0.07])
        return [SimpleNamespace(tip_mm=tip, hub_mm=hub, outer_diameter_mm=3.05)]
    sides = ("right", "left") if bipedicular else ("right",)
    return [Needle(t, t.target_depth_mm)
            for t in (plan_trajectory(spine, "L1", s, bipedicular=bipedicular) for s in sides)]


def seconds(function) -> float:
    start = time.perf_counter()
    function()
    return time.perf_counter() - start


def render(path: str, spine, result, needles) -> None:
    import pyvista as pv

    pv.OFF_SCREEN = True
    bone = spine.vertebrae["L1"].patient_mesh()
    plotter = pv.Plotter(shape=(2, 3), off_screen=True, window_size=(1500, 1000))
    views = (("lateral, from the right", (1, 0, 0), (0, 0, 1)), ("AP, from the front", (0, 1, 0), (0, 0, 1)),
             ("axial, from above", (0, 0, 1), (0, 1, 0)))
    for row, ml in enumerate((3.0, 8.0)):
        leaks = ", ".join(f"{lk.kind} {lk.volume_ml:.2f} mL" for lk in result.leaks_at(ml)) or "no leak"
        for col, (name, view, up) in enumerate(views):
            plotter.subplot(row, col)
            plotter.add_mesh(bone, color="ivory", opacity=0.2)
            plotter.add_mesh(result.mesh_at(ml), color="royalblue", smooth_shading=True)
            for n in needles:
                shaft = n.tip_mm + 0.35 * (np.asarray(n.hub_mm) - n.tip_mm)
                plotter.add_mesh(pv.Tube(pointa=n.tip_mm, pointb=shaft, radius=n.outer_diameter_mm / 2), color="grey")
            plotter.add_text(f"{ml:g} mL, {name}; {leaks}", font_size=8)
            plotter.view_vector(view, up)
            plotter.reset_camera()
            plotter.camera.zoom(1.3)
    plotter.screenshot(path)
    plotter.close()
    print(f"rendered {path}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--png", help="also render the 3 and 8 mL fill inside L1 to this file")
    parser.add_argument("--bipedicular", action="store_true", help="two needles instead of one")
    args = parser.parse_args()

    start = time.perf_counter()
    spine = build_spine("T12", "L2")
    volume = spine.density_volume(SPACING_MM, bone_quality="osteoporotic")
    needles = planned_needles(spine, args.bipedicular)
    print(f"volume: T12-L2 at {SPACING_MM} mm, {volume.shape} ({volume.mu_per_mm.size / 1e6:.1f} M voxels), "
          f"built in {time.perf_counter() - start:.1f} s")
    print(f"needle: {len(needles)} x {needles[0].outer_diameter_mm:.2f} mm, tip "
          f"{np.round(needles[0].tip_mm, 1).tolist()} mm; machine: {os.cpu_count()} CPUs, "
          f"load average {os.getloadavg()[0]:.2f}")
    simulate_injection(volume, needles, 0.5)  # warm-up (imports, caches)

    print("simulate_injection (median of runs with different seeds):")
    cases = [(3.0, 100.0), (3.0, 20.0), (3.0, 1000.0), (8.0, 100.0)]
    for ml, visc in cases:
        runs = []
        for seed in range(REPEATS):
            runs.append(seconds(lambda: simulate_injection(volume, needles, ml, viscosity_pa_s=visc, seed=seed)))
        median = statistics.median(runs)
        verdict = ""
        if ml == 3.0:
            verdict = f"target <= {TARGET_3ML_S:g} s  " + ("ok" if median <= TARGET_3ML_S else "OVER")
        print(f"  {ml:g} mL at {visc:6g} Pa s: {median:5.2f} s (min {min(runs):.2f}, max {max(runs):.2f})  {verdict}")
    result = simulate_injection(volume, needles, 8.0)
    print(f"  {result!r}")

    print("per fill level, once simulated (median of 8 levels between 0.5 and 8 mL):")
    levels = np.linspace(0.5, 8.0, 8)
    carm = CArm.lateral(np.zeros(3))
    for name, call in (("mask_at", result.mask_at),
                       ("mesh_at", result.mesh_at),
                       ("line_integrals (lateral, 512 x 512)", lambda ml: result.line_integrals(carm, ml))):
        times = [1e3 * seconds(lambda: call(ml)) for ml in levels]
        note = f"  frame target <= {FRAME_TARGET_MS:g} ms" if name.startswith("line") else ""
        print(f"  {name:<36} {statistics.median(times):7.1f} ms (max {max(times):6.1f}){note}")
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"peak memory of this process: {peak_mb:.0f} MB (volume and spine included)")
    if args.png:
        render(args.png, spine, result, needles)


if __name__ == "__main__":
    main()
