"""One clinician's choice turned into everything a story needs, computed once.

:class:`ProcedureModel` holds, for a level, grade, fracture type and procedure: the 3D scene
meshes around the level, the small spine the X-rays are taken of (intact, fractured and, for
kyphoplasty, lifted), the planned bipedicular needles, one cement simulation that answers any
fill, and the fluoroscopes. :meth:`ProcedureModel.frame` maps a storyboard state (the
``fracture.t``, ``needle.depth``, ``cement.ml``, ``balloon.fill_ml`` and
``kyphoplasty.restore`` parameters) to geometry, images and readouts. No UI code here.

A model is shared by every session that made the same choice, so what it answers for a state is
kept (:meth:`ProcedureModel.frame`, a bounded cache): the sessions walking the same story
compute each step's frame once.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Callable

import numpy as np
import pyvista as pv

from vp3d.anatomy import LEVELS, build_spine
from vp3d.cement import simulate_up_to
from vp3d.fluoro import CArm, Fluoroscope
from vp3d.pathology.fracture import Fracture, collapse_motion, deform_patient_points, fracture_spine
from vp3d.pathology.kyphoplasty import (MAX_BALLOON_ML, Balloon, cavity_mask, inflated_fraction, lift_fraction,
                              settled_spine, with_cavity)
from vp3d.meshing.cache import ScenePart, load_scene_meshes
from vp3d.checks import check_bone_quality, check_grade, check_kind, check_procedure, check_procedure_level
from vp3d.needle.path import NEEDLE_LENGTH_MM, Needle, assess, plan_trajectory
from vp3d.shared_cache import SharedCache

#: Cement simulated once per choice (less where a small crushed body and its leak routes hold
#: less); the storyboard's fills (at most 4 mL) stay below it.
SIMULATED_ML = 8.0
#: Voxel size of the X-ray volumes: at the page's image size 0.75 mm looks the same as 0.5 mm
#: and builds three times faster (bench/fluoro.py measures the 0.5 mm case).
XRAY_SPACING_MM = 0.75
#: The storyboard parameters a frame depends on (nothing else of the state is read).
FRAME_PARAMS = ("fracture.t", "needle.depth", "cement.ml", "balloon.fill_ml", "kyphoplasty.restore")
#: Frames kept per model: a story's steps several times over (a playing step's in-between
#: frames each take one slot and push the oldest out).
FRAME_CACHE_SIZE = 48


@dataclass(frozen=True)
class Choices:
    """What the clinician picks, each field checked by :mod:`vp3d.checks` (a level of
    :data:`vp3d.levels.PROCEDURE_LEVELS`; options read whatever their case)."""

    level: str = "L1"
    grade: int = 2
    kind: str = "wedge"
    procedure: str = "vertebroplasty"
    bone_quality: str = "osteoporotic"

    def __post_init__(self):
        object.__setattr__(self, "level", check_procedure_level(self.level))
        object.__setattr__(self, "grade", check_grade(self.grade))
        object.__setattr__(self, "kind", check_kind(self.kind))
        object.__setattr__(self, "procedure", check_procedure(self.procedure))
        object.__setattr__(self, "bone_quality", check_bone_quality(self.bone_quality))


@dataclass
class SceneFrame:
    """Everything the page shows at one moment of a step."""

    fracture_t: float  # collapse shown, after any balloon lift
    meshes: dict[str, pv.PolyData]  # parts whose geometry differs from the scene's base meshes
    transforms: dict[str, np.ndarray]  # 4x4 rigid motion of parts above the fracture
    cement_ml: float
    leaks: list = field(default_factory=list)
    safety: object | None = None  # vp3d.needle.path.SafetyReport of the right needle, if inserted


def _scene_range(level: str) -> tuple[str, str]:
    """Three levels above and four below (L1: T10-L5, the default scene), clipped to T1-L5."""
    i = LEVELS.index(level)
    return LEVELS[max(i - 3, 0)], LEVELS[min(i + 4, len(LEVELS) - 1)]


def _xray_range(level: str) -> tuple[str, str]:
    i = LEVELS.index(level)
    return LEVELS[max(i - 1, 0)], LEVELS[min(i + 1, len(LEVELS) - 1)]


class ProcedureModel:
    """Engine state for one :class:`Choices` (built once, then queried per frame)."""

    def __init__(self, choices: Choices, *, progress: Callable[[float, str], None] | None = None,
                 rows: int = 384):
        say = progress or (lambda f, msg: None)
        self.choices = choices
        level = choices.level
        self.fracture = Fracture(level, choices.grade, choices.kind)
        say(0.05, "Building the spine")
        top, bottom = _scene_range(level)
        self.spine = build_spine(top, bottom)
        self.parts: list[ScenePart] = load_scene_meshes(top, bottom)
        self._base = {p.name: p.mesh for p in self.parts}
        say(0.35, "Preparing the X-ray views")
        xt, xb = _xray_range(level)
        self.xspine = build_spine(xt, xb)
        self.intact_volume = self.xspine.density_volume(XRAY_SPACING_MM, choices.bone_quality)
        self.broken_spine = fracture_spine(self.xspine, self.fracture, 1.0)
        self.broken_volume = self.broken_spine.density_volume(XRAY_SPACING_MM, choices.bone_quality)
        say(0.7, "Planning the needles")
        self.trajectories = [plan_trajectory(self.broken_spine, level, s) for s in ("right", "left")]
        at_target = [Needle(t, t.target_depth_mm) for t in self.trajectories]
        self.balloons_full = [Balloon(n.tip_mm, n.trajectory.direction, MAX_BALLOON_ML * 0.75)
                              for n in at_target]
        say(0.8, "Simulating the cement")
        cement_volume = self.broken_volume
        if choices.procedure == "kyphoplasty":
            # Full balloons hold up more than is kept once they are emptied (Rotter 2010).
            held = fracture_spine(self.xspine, self.fracture, 1.0 - inflated_fraction(self.fracture.height_loss))
            self.inflated_volume = held.density_volume(XRAY_SPACING_MM, choices.bone_quality)
            lifted = settled_spine(self.xspine, self.fracture)
            self.lifted_volume = lifted.density_volume(XRAY_SPACING_MM, choices.bone_quality)
            cement_volume = with_cavity(self.lifted_volume, self.balloons_full)
            self.cavity_volume = cement_volume
        # T5-T7 crushed to grade 3 hold about 5-6.5 mL: those simulate what they hold.
        self.cement = simulate_up_to(cement_volume, at_target, SIMULATED_ML)
        self.simulated_ml = self.cement.total_ml
        centre = self.spine.vertebrae[level].transform[:3, 3]
        self.views = {"ap": CArm.ap(centre, rows=rows, cols=rows),
                      "lateral": CArm.lateral(centre, rows=rows, cols=rows)}
        self._scopes: dict[int, Fluoroscope] = {}
        self._frames = SharedCache(FRAME_CACHE_SIZE)
        say(1.0, "Ready")

    # -- state -> what is shown ------------------------------------------------------------
    def collapse(self, state: dict) -> float:
        """Collapse shown: the step's ``fracture.t`` less the balloons' lift.

        ``kyphoplasty.restore`` is the share of the lift kept in the end; while the balloons
        are full (``balloon.fill_ml``) they hold up more (:func:`vp3d.kyphoplasty.lift_fraction`).
        """
        t = float(state.get("fracture.t", 0.0))
        restore = float(state.get("kyphoplasty.restore", 0.0))
        if restore <= 0.0 or self.choices.procedure != "kyphoplasty":
            return t
        inflation = min(float(state.get("balloon.fill_ml", 0.0)) / MAX_BALLOON_ML, 1.0)
        return t * (1.0 - lift_fraction(self.fracture.height_loss, restore, inflation))

    def needles(self, state: dict) -> list[Needle]:
        frac = float(state.get("needle.depth", 0.0))
        if frac <= 0:
            return []
        return [Needle(t, frac * t.target_depth_mm) for t in self.trajectories]

    def balloons(self, state: dict) -> list[Balloon]:
        ml = float(state.get("balloon.fill_ml", 0.0))
        needles = self.needles(state)
        if ml <= 0 or not needles:
            return []
        return [Balloon(n.tip_mm, n.trajectory.direction, ml) for n in needles]

    @property
    def frames_computed(self) -> int:
        """How many frames were computed rather than reused."""
        return self._frames.made

    @staticmethod
    def frame_key(state: dict) -> tuple:
        """What a frame depends on: the :data:`FRAME_PARAMS` of ``state``, exactly."""
        return tuple(float(state.get(p, 0.0)) for p in FRAME_PARAMS)

    def frame(self, state: dict) -> SceneFrame:
        """Geometry and readouts for a storyboard state.

        Computed once per :meth:`frame_key` and reused (every session on this model asks for
        the same steps): each call gets its own :class:`SceneFrame` and dicts, but the meshes
        in it are shared and must be treated as read-only.
        """
        cached = self._frames.get_or_make(self.frame_key(state), lambda: self._compute_frame(state))
        return replace(cached, meshes=dict(cached.meshes), transforms=dict(cached.transforms),
                       leaks=list(cached.leaks))

    def _compute_frame(self, state: dict) -> SceneFrame:
        t = self.collapse(state)
        deform, motion = collapse_motion(self.spine, self.fracture, t)
        level = self.fracture.level
        above = set(self.spine.levels[: self.spine.levels.index(level)])
        meshes, transforms = {}, {}
        base = self._base[level]
        moved = base.copy()
        moved.points = deform_patient_points(base.points, self.spine.vertebrae[level].transform, deform)
        meshes[level] = moved.compute_normals(auto_orient_normals=True, split_vertices=False)
        for p in self.parts:
            if p.level in above:
                transforms[p.name] = motion
        for i, n in enumerate(self.needles(state)):
            meshes[f"needle {i + 1}"] = needle_mesh(n)
        for i, b in enumerate(self.balloons(state)):
            meshes[f"balloon {i + 1}"] = b.mesh()
        ml = float(state.get("cement.ml", 0.0))
        if ml > 0:
            meshes["cement"] = self.cement.mesh_at(min(ml, self.simulated_ml))
        needles = self.needles(state)
        safety = assess(self.broken_spine, needles[0]) if needles else None
        leaks = self.cement.leaks_at(min(ml, self.simulated_ml)) if ml > 0 else []
        return SceneFrame(t, meshes, transforms, ml, leaks, safety)

    def _volume(self, state: dict):
        t = self.collapse(state)
        if float(state.get("cement.ml", 0.0)) > 0 and self.choices.procedure == "kyphoplasty":
            return self.cavity_volume
        if t < 0.5:
            return self.intact_volume
        if self.choices.procedure == "kyphoplasty" and float(state.get("kyphoplasty.restore", 0)) > 0.5:
            inflated = float(state.get("balloon.fill_ml", 0.0)) > 0.5 * MAX_BALLOON_ML
            return self.inflated_volume if inflated else self.lifted_volume
        return self.broken_volume

    def fluoroscopy(self, state: dict, view: str) -> np.ndarray:
        """Display image (uint8, rows x cols) of one view for a storyboard state."""
        if view not in self.views:
            raise ValueError(f"view must be 'ap' or 'lateral', got {view!r}")
        vol = self._volume(state)
        scope = self._scopes.setdefault(id(vol), Fluoroscope(vol))
        ml = float(state.get("cement.ml", 0.0))
        mask = self.cement.mask_at(min(ml, self.simulated_ml)) if ml > 0 else None
        if mask is not None and mask.shape != vol.shape:
            mask = None
        balloons = self.balloons(state)
        if balloons:
            # The balloon is inflated with contrast medium: it shows dark like cement.
            inflated = cavity_mask(vol, balloons)
            mask = inflated if mask is None else (mask | inflated)
        needles = self.needles(state)
        return scope.radiograph(self.views[view], needle=needles or None, cement=mask).image


def needle_mesh(needle: Needle, sides: int = 24) -> pv.PolyData:
    """Closed tube of the cannula from its hub to its tip (patient frame)."""
    r = needle.outer_diameter_mm / 2
    length = NEEDLE_LENGTH_MM
    cyl = pv.Cylinder(center=(needle.tip_mm + needle.hub_mm) / 2,
                      direction=needle.trajectory.direction, radius=r, height=length,
                      resolution=sides, capping=True)
    return cyl.triangulate().compute_normals(auto_orient_normals=True)
