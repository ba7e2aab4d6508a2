"""Fluoroscopy images of the quiz's scenarios, rendered with the engine and kept in-process.

A scenario question (:class:`vp3d.quiz.questions.ImageSpec`) names a view or two, a needle re-aimed from
its planned path and advanced to a fraction of its planned depth, a fractured level and a
cement fill. :func:`render_view` draws one view exactly as the app draws the story's images
(:class:`vp3d.procedure.case.ProcedureModel`): the level and its neighbours, an osteoporotic density
volume at 0.75 mm, the needle on ``steer(plan_trajectory(level, side), medial_deg, caudal_deg)``
and a C-arm centred on the level's body.

:class:`ScenarioImages` renders each (scenario, view) once per process and shares the result
between every session and thread that asks for it (a second caller waits for the first render
instead of starting its own). The images are read-only ``uint8`` arrays, ``rows`` x ``rows``.

Engine code: numpy and the engine only, no UI.
"""

from __future__ import annotations

import dataclasses
import math
import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from concurrent.futures import Future
from dataclasses import dataclass
from typing import Any

import numpy as np

from vp3d.anatomy.morphometry import LEVELS
from vp3d.quiz.questions import GRADES, KINDS, MAX_STEER_DEG, SIDES, ImageSpec
from vp3d.storyboard.scene import FLUORO_VIEWS, PARAMETERS

#: Image size (pixels a side) and voxel size of the X-ray volume, as the app's story images.
ROWS = 256
SPACING_MM = 0.75
BONE_QUALITY = "osteoporotic"
#: Scenes (spine, volume, fluoroscope) kept for reuse: about 30 MB each at 0.75 mm.
MAX_SCENES = 2
VIEW_NAMES = {"ap": "AP", "lateral": "lateral"}


def check_spec(spec: Any) -> ImageSpec:
    """``spec`` if it is an :class:`~vp3d.quiz.questions.ImageSpec` the engine can draw, else ``ValueError``.

    The quiz loader checks the same ranges for the file; this guards specs made in code.
    """
    if not isinstance(spec, ImageSpec):
        raise ValueError(f"a scenario image must be a vp3d.quiz.questions.ImageSpec, got {type(spec).__name__}")
    views = spec.views
    if (not isinstance(views, tuple) or not views or len(set(views)) != len(views)
            or any(v not in FLUORO_VIEWS for v in views)):
        raise ValueError(f"image views must be distinct views from {', '.join(FLUORO_VIEWS)}, got {views!r}")
    if spec.level is not None and spec.level not in LEVELS:
        raise ValueError(f"image level must be one of {LEVELS[0]}..{LEVELS[-1]}, got {spec.level!r}")
    if spec.grade is not None and (isinstance(spec.grade, bool) or spec.grade not in GRADES):
        raise ValueError(f"Genant grade must be 1, 2 or 3, got {spec.grade!r}")
    if spec.kind not in KINDS:
        raise ValueError(f"fracture kind must be one of {', '.join(KINDS)}, got {spec.kind!r}")
    low, high = PARAMETERS["cement.ml"].low, PARAMETERS["cement.ml"].high
    if not _finite(spec.cement_ml) or not low <= spec.cement_ml <= high:
        raise ValueError(f"cement_ml must be a number from {low:g} to {high:g} mL, got {spec.cement_ml!r}")
    n = spec.needle
    if n is not None:
        if n.level not in LEVELS:
            raise ValueError(f"needle level must be one of {LEVELS[0]}..{LEVELS[-1]}, got {n.level!r}")
        if n.side not in SIDES:
            raise ValueError(f"needle side must be one of {', '.join(SIDES)}, got {n.side!r}")
        for name in ("medial_deg", "caudal_deg"):
            value = getattr(n, name)
            if not _finite(value) or abs(value) > MAX_STEER_DEG:
                raise ValueError(f"needle {name} must be between -{MAX_STEER_DEG:g} and "
                                 f"{MAX_STEER_DEG:g} degrees, got {value!r}")
        if not _finite(n.depth) or not 0.0 <= n.depth <= 1.0:
            raise ValueError(f"needle depth must be a fraction from 0 to 1 of the planned depth, got {n.depth!r}")
        if spec.level is not None and spec.level != n.level:
            raise ValueError(f"the image's level {spec.level} differs from the needle's {n.level}")
    if _level(spec) is None:
        raise ValueError("a scenario image needs a level, a needle or a fracture to show")
    return spec


def _finite(value: Any) -> bool:
    return (not isinstance(value, bool) and isinstance(value, (int, float, np.integer, np.floating))
            and math.isfinite(value))


def _level(spec: ImageSpec) -> str | None:
    return spec.level if spec.level is not None else (spec.needle.level if spec.needle else None)


def _check_view(spec: ImageSpec, view: Any) -> str:
    if view not in spec.views:
        raise ValueError(f"view must be one of this image's views ({', '.join(spec.views)}), got {view!r}")
    return view


def describe_view(spec: ImageSpec, view: str) -> str:
    """Text alternative of one view: what is shown (level, needle, depth), never what it means."""
    spec = check_spec(spec)
    text = dataclasses.replace(spec, views=(_check_view(spec, view),)).describe()
    return text[:1].upper() + text[1:]


def scene_key(spec: ImageSpec, spacing_mm: float = SPACING_MM) -> tuple:
    """What the X-ray volume depends on: level, fracture and voxel size (not the needle)."""
    level = _level(spec)
    fracture = (spec.grade, spec.kind) if spec.grade is not None else None
    return (level, fracture, float(spacing_mm))


# ----------------------------------------------------------------------------- rendering


@dataclass(frozen=True)
class ImagedSpine:
    """The imaged spine of one scenario: level and neighbours, fractured or not, and its scope."""

    level: str
    spine: Any  # vp3d.anatomy.Spine (fractured when a grade is given)
    volume: Any  # vp3d.anatomy.volume.Volume
    scope: Any  # vp3d.fluoro.Fluoroscope over ``volume`` (caches projections per pose)
    centre_mm: np.ndarray  # the intact level's body centre: the C-arm's isocentre


def build_scene(spec: ImageSpec, *, spacing_mm: float = SPACING_MM) -> ImagedSpine:
    """Spine, density volume and fluoroscope of ``spec``'s level (the level and one either side)."""
    from vp3d.anatomy import build_spine
    from vp3d.fluoro import Fluoroscope
    from vp3d.pathology.fracture import Fracture, fracture_spine

    spec = check_spec(spec)
    level = _level(spec)
    i = LEVELS.index(level)
    spine = build_spine(LEVELS[max(i - 1, 0)], LEVELS[min(i + 1, len(LEVELS) - 1)])
    centre = np.array(spine.vertebrae[level].transform[:3, 3], dtype=float)
    if spec.grade is not None:
        spine = fracture_spine(spine, Fracture(level, spec.grade, spec.kind), 1.0)
    volume = spine.density_volume(spacing_mm, BONE_QUALITY)
    centre.flags.writeable = False
    return ImagedSpine(level, spine, volume, Fluoroscope(volume), centre)


def needles(spec: ImageSpec, scene: ImagedSpine) -> list:
    """The scenario's needle (``[]`` when it has none), on the imaged spine."""
    from vp3d.needle.path import Needle, plan_trajectory, steer

    n = spec.needle
    if n is None:
        return []
    trajectory = steer(scene.spine, plan_trajectory(scene.spine, n.level, n.side),
                       medial_deg=float(n.medial_deg), caudal_deg=float(n.caudal_deg))
    return [Needle(trajectory, float(n.depth) * trajectory.target_depth_mm)]


def cement_mask(spec: ImageSpec, scene: ImagedSpine, shown: list) -> np.ndarray | None:
    """Cement after ``spec.cement_ml`` mL, injected through the shown needle (or two planned ones)."""
    if not spec.cement_ml:
        return None
    from vp3d.cement import simulate_injection
    from vp3d.needle.path import Needle, plan_trajectory

    through = shown or [Needle(t, t.target_depth_mm)
                        for t in (plan_trajectory(scene.spine, scene.level, s) for s in SIDES)]
    result = simulate_injection(scene.volume, through, float(spec.cement_ml))
    return result.mask_at(float(spec.cement_ml))


def render_view(spec: ImageSpec, view: str, *, rows: int = ROWS, scene: ImagedSpine | None = None,
                spacing_mm: float = SPACING_MM) -> np.ndarray:
    """One view of a scenario as a display image (``uint8``, ``rows`` x ``rows``), not cached.

    Raises ``ValueError`` for a spec the engine cannot draw or a view the spec does not have.
    """
    from vp3d.fluoro import CArm

    spec = check_spec(spec)
    view = _check_view(spec, view)
    if scene is None:
        scene = build_scene(spec, spacing_mm=spacing_mm)
    shown = needles(spec, scene)
    carm = (CArm.ap if view == "ap" else CArm.lateral)(scene.centre_mm, rows=rows, cols=rows)
    image = scene.scope.radiograph(carm, needle=shown or None, cement=cement_mask(spec, scene, shown)).image
    image = np.ascontiguousarray(image, dtype=np.uint8)
    image.flags.writeable = False
    return image


# ----------------------------------------------------------------------------- shared cache


class _Once:
    """Compute each key's value once; concurrent callers of the same key wait for the first.

    Failures are not kept (the next caller tries again). ``limit`` bounds the finished entries
    kept (oldest used dropped first); ``None`` keeps all.
    """

    def __init__(self, limit: int | None = None) -> None:
        self._items: OrderedDict[Hashable, Future] = OrderedDict()
        self._lock = threading.Lock()
        self._limit = limit

    def get(self, key: Hashable, make: Callable[[], Any]) -> Any:
        with self._lock:
            future = self._items.get(key)
            owner = future is None
            if owner:
                future = self._items[key] = Future()
            else:
                self._items.move_to_end(key)
        if owner:
            try:
                value = make()
            except BaseException as exc:
                with self._lock:
                    self._items.pop(key, None)
                future.set_exception(exc)
                raise
            future.set_result(value)
            self._trim()
        return future.result()

    def peek(self, key: Hashable) -> Any:
        with self._lock:
            future = self._items.get(key)
        return future.result() if future is not None and future.done() and not future.exception() else None

    def clear_done(self) -> int:
        """Forget every finished entry (running ones stay); returns how many were dropped."""
        with self._lock:
            done = [k for k, f in self._items.items() if f.done()]
            for k in done:
                del self._items[k]
        return len(done)

    def _trim(self) -> None:
        if self._limit is None:
            return
        with self._lock:
            done = [k for k, f in self._items.items() if f.done()]
            for k in done[: max(0, len(done) - self._limit)]:
                del self._items[k]

    def __len__(self) -> int:
        with self._lock:
            return len(self._items)


class ScenarioImages:
    """Scenario images rendered once per process and shared (thread-safe).

    Parameters
    ----------
    rows : int
        Image size in pixels a side.
    spacing_mm : float
        Voxel size of the X-ray volumes.
    max_scenes : int
        Volumes kept for reuse between scenarios of the same level and fracture; the images
        themselves are all kept (a few kB each).
    """

    def __init__(self, *, rows: int = ROWS, spacing_mm: float = SPACING_MM, max_scenes: int = MAX_SCENES):
        if isinstance(rows, bool) or not isinstance(rows, int) or not 16 <= rows <= 1024:
            raise ValueError(f"rows must be a whole number from 16 to 1024, got {rows!r}")
        if not _finite(spacing_mm) or not 0.2 <= spacing_mm <= 4.0:
            raise ValueError(f"spacing_mm must be between 0.2 and 4.0 mm, got {spacing_mm!r}")
        self.rows, self.spacing_mm = rows, float(spacing_mm)
        self._scenes = _Once(limit=max(1, int(max_scenes)))
        self._images = _Once()
        self._count_lock = threading.Lock()
        self.renders = 0  # images actually rendered (tests check the cache with it)

    def _key(self, spec: ImageSpec, view: str) -> tuple:
        return (spec, view)

    def image(self, spec: ImageSpec, view: str) -> np.ndarray:
        """One view of ``spec``: rendered on first use, then the same read-only array."""
        spec = check_spec(spec)
        view = _check_view(spec, view)

        def make() -> np.ndarray:
            scene = self._scenes.get(scene_key(spec, self.spacing_mm),
                                     lambda: build_scene(spec, spacing_mm=self.spacing_mm))
            image = render_view(spec, view, rows=self.rows, scene=scene)
            with self._count_lock:
                self.renders += 1
            return image

        return self._images.get(self._key(spec, view), make)

    def images(self, spec: ImageSpec) -> dict[str, np.ndarray]:
        """Every view of ``spec``, in its order."""
        spec = check_spec(spec)
        return {view: self.image(spec, view) for view in spec.views}

    def cached(self, spec: ImageSpec, view: str) -> np.ndarray | None:
        """The view if it is already rendered, else ``None`` (never renders)."""
        return self._images.peek(self._key(spec, view))

    def release_scenes(self, specs=()) -> int:
        """Drop the kept volumes once every view of ``specs`` is rendered (they are no longer
        needed: the images stay). Returns how many volumes were dropped."""
        if any(self.cached(s, v) is None for s in specs for v in s.views):
            return 0
        return self._scenes.clear_done()

    @property
    def scenes_kept(self) -> int:
        return len(self._scenes)


_shared: ScenarioImages | None = None
_shared_lock = threading.Lock()


def shared_images() -> ScenarioImages:
    """The process's :class:`ScenarioImages` (every session uses the same one)."""
    global _shared
    with _shared_lock:
        if _shared is None:
            _shared = ScenarioImages()
        return _shared


__all__ = ["ROWS", "SPACING_MM", "ImagedSpine", "ScenarioImages", "build_scene", "check_spec", "describe_view",
           "needles", "render_view", "scene_key", "shared_images"]
