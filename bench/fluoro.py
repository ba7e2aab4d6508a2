"""Fluoroscopy speed on a T12-L2 volume at 0.5 mm, 512 x 512 detector.

Run: ``python bench/fluoro.py`` (under a minute; the plain numpy ray-march takes most of it).
Prints milliseconds for a new C-arm angle, per frame while the needle advances and while
the cement grows (AP and lateral), and the speed-up over a straightforward numpy
ray-march run here on the same volume, each with its target from DESIGN.md.
"""

from __future__ import annotations

import os
import statistics
import sys
import time
from pathlib import Path
from types import SimpleNamespace

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from vp3d.fluoro import CArm, Fluoroscope, line_integrals  # noqa: E402
from vp3d.anatomy.volume import Label, Volume  # noqa: E402

SPACING_MM = 0.5
NEW_ANGLE_TARGET_MS = 150.0
FRAME_TARGET_MS = 20.0
SPEEDUP_TARGET = 20.0


def load_volume() -> tuple[Volume, np.ndarray, str]:
    """The anatomy engine's T12-L2 density volume, or a synthetic phantom of the same size."""
    try:
        from vp3d.anatomy import build_spine

        start = time.perf_counter()
        spine = build_spine("T12", "L2")
        volume = spine.density_volume(SPACING_MM)
        centre = np.asarray(spine.vertebrae["L1"].transform, float)[:3, 3]
        seconds = time.perf_counter() - start
        return volume, centre, f"vp3d.anatomy build_spine('T12', 'L2').density_volume(0.5), built in {seconds:.1f} s"
    except ImportError as error:  # anatomy engine not available: same-size phantom
        return (*synthetic_spine(), f"synthetic phantom (vp3d.anatomy unavailable: {error})")


def synthetic_spine() -> tuple[Volume, np.ndarray]:
    """Three box-ish vertebral bodies with cortical shells, pedicles and spinous processes in
    a soft-tissue block, 200 x 260 x 240 voxels at 0.5 mm (T12-L2 sized)."""
    from vp3d.anatomy.attenuation import label_mu_per_mm

    shape = (200, 260, 240)
    origin = -0.5 * SPACING_MM * (np.array(shape) - 1) + [0.0, -20.0, 0.0]
    x, y, z = np.meshgrid(*[origin[i] + SPACING_MM * np.arange(shape[i]) for i in range(3)], indexing="ij", sparse=True)
    labels = np.full(shape, Label.SOFT_TISSUE, np.uint8)
    for centre_z in (-35.0, 0.0, 35.0):
        body = ((x / 22.0) ** 2 + (y / 16.0) ** 2 <= 1.0) & (np.abs(z - centre_z) <= 12.5)
        inner = ((x / 21.0) ** 2 + (y / 15.0) ** 2 <= 1.0) & (np.abs(z - centre_z) <= 11.5)
        labels[body] = Label.CORTICAL_BONE
        labels[inner] = Label.TRABECULAR_BONE
        for side in (-1.0, 1.0):
            pedicle = ((x - side * 13.0) / 4.5) ** 2 + ((z - centre_z - 4.0) / 7.0) ** 2 <= 1.0
            labels[pedicle & (y < -14.0) & (y > -32.0)] = Label.CORTICAL_BONE
        spinous = (np.abs(x) <= 3.0) & (y < -32.0) & (y > -70.0) & (np.abs(z - centre_z + 5.0) <= 9.0)
        labels[spinous] = Label.CORTICAL_BONE
    lut = np.zeros(256, np.float32)
    for label, mu in label_mu_per_mm().items():
        lut[int(label)] = mu
    return Volume(lut[labels], SPACING_MM, origin, labels), np.zeros(3)


def numpy_ray_march(volume: Volume, carm: CArm) -> np.ndarray:
    """Straightforward reference: march every ray through the box at the voxel spacing,
    trilinear interpolation by numpy indexing, midpoint rule."""
    mu, h = volume.mu_per_mm, float(volume.spacing_mm)
    source = carm.source_mm()
    vectors = carm.pixel_centers_mm().reshape(-1, 3) - source
    length = np.linalg.norm(vectors, axis=1)
    unit = vectors / length[:, None]
    low = volume.origin_mm - 0.5 * h
    high = volume.origin_mm + h * (np.array(mu.shape) - 0.5)
    with np.errstate(divide="ignore", invalid="ignore"):
        t1, t2 = (low - source) / unit, (high - source) / unit
    t_in = np.clip(np.nanmax(np.minimum(t1, t2), axis=1), 0.0, None)
    t_out = np.minimum(np.nanmin(np.maximum(t1, t2), axis=1), length)
    steps = np.where(t_out > t_in, np.ceil((t_out - t_in) / h), 0).astype(int)
    total = np.zeros(len(unit))
    padded = np.pad(mu, 1)
    flat = padded.ravel()
    stride = np.array([padded.shape[1] * padded.shape[2], padded.shape[2], 1])
    for i in range(steps.max()):
        active = np.flatnonzero(steps > i)
        t = t_in[active] + (i + 0.5) * h
        p = (source + t[:, None] * unit[active] - volume.origin_mm) / h + 1.0
        p = np.clip(p, 0.0, np.array(padded.shape) - 1.001)
        base = np.floor(p).astype(np.int64)
        w = p - base
        value = np.zeros(len(active))
        for corner in np.ndindex(2, 2, 2):
            weight = np.prod(np.where(corner, w, 1.0 - w), axis=1)
            value += weight * flat[(base + corner) @ stride]
        total[active] += value * h
    return total.reshape(carm.rows, carm.cols).astype(np.float32)


class Timings(list):
    """Wall-clock milliseconds per call, with the process CPU milliseconds (all threads) beside."""

    cpu_ms: list[float]


def timed(function, repeats: int) -> Timings:
    """Time ``function(i)`` for i in range(repeats)."""
    times = Timings()
    times.cpu_ms = []
    for i in range(repeats):
        start, cpu = time.perf_counter(), time.process_time()
        function(i)
        times.append(1e3 * (time.perf_counter() - start))
        times.cpu_ms.append(1e3 * (time.process_time() - cpu))
    return times


def report(name: str, times: Timings, target_ms: float) -> None:
    median = statistics.median(times)
    verdict = "ok" if median <= target_ms else "OVER"
    print(
        f"  {name:<42} median {median:6.1f} ms (min {min(times):6.1f}, max {max(times):6.1f}; "
        f"CPU {statistics.median(times.cpu_ms):6.1f})  target <= {target_ms:.0f} ms  {verdict}"
    )


def main() -> None:
    volume, centre, source = load_volume()
    print(f"volume: {source}")
    print(
        f"  {volume.shape} voxels at {volume.spacing_mm} mm ({volume.mu_per_mm.size / 1e6:.1f} M), "
        f"isocentre {np.round(centre, 1)} mm"
    )
    print(f"machine: {os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.2f} at start; detector 512 x 512")
    views = {"AP": CArm.ap(centre), "lateral": CArm.lateral(centre)}

    scope = Fluoroscope(volume)
    start = time.perf_counter()
    scope.radiograph(CArm(isocenter_mm=centre, cranial_deg=0.3))
    print(f"first frame in this process (worker threads start): {1e3 * (time.perf_counter() - start):.0f} ms")
    print("new C-arm angle, each a pose not seen before:")
    pure = {}
    for name, carm in views.items():
        pose = lambda i: CArm(isocenter_mm=centre, lao_deg=carm.lao_deg + 0.5 * i)  # noqa: E731
        pure[name] = timed(lambda i: line_integrals(volume, pose(i)), 9)
        report(f"{name}, line_integrals()", pure[name], NEW_ANGLE_TARGET_MS)
        times = timed(lambda i: scope.radiograph(pose(i + 0.5)), 9)
        report(f"{name}, Fluoroscope.radiograph() (+ display)", times, NEW_ANGLE_TARGET_MS)

    # A transpedicular path into the left half of the body, 20 degrees medial.
    direction = np.array([-np.sin(np.radians(20.0)), -np.cos(np.radians(20.0)), 0.0])
    final_tip = centre + [-5.0, 8.0, 0.0]

    def needle_at(depth_mm: float) -> SimpleNamespace:
        tip = final_tip + direction * (30.0 - depth_mm)
        return SimpleNamespace(hub_mm=tip + 120.0 * direction, tip_mm=tip, outer_diameter_mm=3.0, inner_diameter_mm=2.4)

    labels = volume.labels if volume.labels is not None else np.full(volume.shape, Label.TRABECULAR_BONE, np.uint8)
    x, y, z = np.meshgrid(*[volume.axis_mm(i) for i in range(3)], indexing="ij", sparse=True)
    distance = np.sqrt((x - final_tip[0] - 3.0) ** 2 + (y - final_tip[1]) ** 2 + (z - final_tip[2]) ** 2)
    bone = labels == Label.TRABECULAR_BONE
    masks = [bone & (distance <= radius) for radius in np.linspace(2.0, 9.0, 12)]
    print(f"frames at an unchanged pose (needle 11 G tube advancing 1 mm a frame; cement growing to "
          f"{masks[-1].sum() * volume.voxel_volume_mm3 / 1000:.1f} mL, {masks[-1].sum()} voxels):")
    for name, carm in views.items():
        scope.radiograph(carm)
        advancing = timed(lambda i: scope.radiograph(carm, needle_at(i), noise_seed=i), 20)
        report(f"{name}, needle advancing", advancing, FRAME_TARGET_MS)
        report(
            f"{name}, cement growing (needle in place)",
            timed(lambda i: scope.radiograph(carm, needle_at(30.0), masks[i], noise_seed=i), len(masks)),
            FRAME_TARGET_MS,
        )

    print("straightforward numpy ray-march (step = voxel spacing, trilinear), AP, same fine volume:")
    # The march covers the fine box only; compare it with ours on the same box (no trunk).
    fine = Volume(volume.mu_per_mm, volume.spacing_mm, volume.origin_mm, volume.labels)
    start = time.perf_counter()
    reference = numpy_ray_march(fine, views["AP"])
    march_ms = 1e3 * (time.perf_counter() - start)
    ours = line_integrals(fine, views["AP"])
    body = reference > 0.5
    agreement = np.median(np.abs(ours[body] - reference[body]) / reference[body])
    for label, ms in (("line_integrals()", statistics.median(pure["AP"])),):
        ratio = march_ms / ms
        print(f"  ray-march {march_ms:8.0f} ms; {label} is {ratio:5.0f}x faster   target >= {SPEEDUP_TARGET:.0f}x  "
              f"{'ok' if ratio >= SPEEDUP_TARGET else 'UNDER'}")
    print(f"  median |difference| between the two: {100 * agreement:.2f} % of the line integral")
    print(f"load average {os.getloadavg()[0]:.2f} at end; other processes on the machine inflate wall times "
          "(CPU is this process's own time, all threads: on an idle 2-core machine wall is about CPU / 2 for the "
          "threaded projection)")


if __name__ == "__main__":
    main()
