"""Benchmark: cost of one fracture animation frame, and of re-sampling the volume.

Run: ``python bench/fracture.py``. A frame moves the broken level's browser mesh and the
parts above it; the 3D view animates at 30 frames/s when a frame costs <= 33 ms.
"""

from __future__ import annotations

import time

import numpy as np

from vp3d.anatomy import build_spine
from vp3d.pathology.fracture import Fracture, collapse_motion, deform_patient_points, fracture_spine
from vp3d.meshing.cache import load_scene_meshes


def main() -> None:
    spine = build_spine("T10", "L5")
    parts = {p.name: p for p in load_scene_meshes("T10", "L5")}
    frac = Fracture("L1", 3, "wedge")
    l1 = parts["L1"].mesh.points.copy()
    above = [p for p in parts.values() if p.level in spine.levels[: spine.levels.index("L1")]]
    times = []
    for t in np.linspace(0, 1, 31):
        t0 = time.perf_counter()
        deform, motion = collapse_motion(spine, frac, float(t))
        deform_patient_points(l1, spine.vertebrae["L1"].transform, deform)
        for p in above:
            p.mesh.points @ motion[:3, :3].T + motion[:3, 3]
        times.append(time.perf_counter() - t0)
    ms = 1000 * np.median(times)
    print(f"fracture frame (L1 mesh {len(l1)} points + {len(above)} parts above): "
          f"{ms:.2f} ms  target <= 33 ms  ratio {ms / 33:.3f}")
    t0 = time.perf_counter()
    fracture_spine(spine, frac, 1.0).density_volume(0.5)
    print(f"fractured density volume T10-L5 at 0.5 mm: {time.perf_counter() - t0:.2f} s "
          "(done once per fracture choice, not per frame)")


if __name__ == "__main__":
    main()
