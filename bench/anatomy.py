"""Benchmark: seconds and peak memory to build the T10-L5 meshes and the 0.5 mm volume.

Run: ``python bench/anatomy.py``. Targets (2 cores): <= 10 s and <= 2 GB together.
"""

from __future__ import annotations

import resource
import time

from vp3d.anatomy import build_spine


def main() -> None:
    t0 = time.perf_counter()
    spine = build_spine("T10", "L5")
    meshes = [p.patient_mesh() for p in spine.parts]
    t1 = time.perf_counter()
    vol = spine.density_volume(spacing_mm=0.5)
    t2 = time.perf_counter()
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    tris = sum(m.n_cells for m in meshes)
    print(f"meshes T10-L5      : {t1 - t0:6.2f} s  ({len(meshes)} parts, {tris} triangles at full resolution)")
    print(f"volume 0.5 mm      : {t2 - t1:6.2f} s  (shape {vol.shape}, {vol.mu_per_mm.nbytes / 1e6:.0f} MB mu)")
    print(f"total              : {t2 - t0:6.2f} s  target <= 10 s  ratio {(t2 - t0) / 10:.2f}")
    print(f"peak memory        : {peak_mb:6.0f} MB target <= 2048 MB ratio {peak_mb / 2048:.2f}")


if __name__ == "__main__":
    main()
