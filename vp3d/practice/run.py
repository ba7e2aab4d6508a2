"""One student's run: the needle's depth and the cement, the rules, and the record of what happened.

A :class:`Practice` is one student's attempt at one :class:`vp3d.procedure.case.ProcedureModel`:
the model (shared by every browser session of that choice) is only read; all practice state
lives here. The student aims a single transpedicular needle (:mod:`vp3d.practice.aim`),
advances it in small steps, takes AP and lateral fluoroscopy shots (each new image counts),
turns the C-arm (:mod:`vp3d.practice.carm_views`), injects cement in 0.5 mL steps once the tip is in
the vertebral body, and is scored on :meth:`Practice.record` by :func:`vp3d.practice.score.score_run`.

``Practice(model, side="right", *, bipedicular=True)``
    Attributes ``side``, ``route``, ``aim``, ``depth_mm``, ``cement_ml``, ``shots``, ``planned``.
    Needle: ``advance(step_mm)``, ``withdraw(step_mm)`` (0.5-10 mm), ``set_aim(**changes)``,
    ``set_side(side)``, ``set_route(route)`` (``"transpedicular"``, or ``"parapedicular"`` at
    thoracic levels), ``needle()``, ``trajectory()``, ``safety()``, ``tip_tissue()``,
    ``tip_place()``, ``bone_entry_depth_mm()``, ``anterior_breach()``.
    Imaging: ``rotate(view, lao_deg=None, cranial_deg=None)``, ``carm(view)``,
    ``images(views=CARM_VIEWS)``.
    Cement: ``inject(ml=0.5)``, ``leaks()``, ``venous_leaks()`` (visible leaks into a vein, Yeom
    type B or S: stop or pause), ``cement_mesh()``, ``cement_result``.
    ``record() -> RunRecord``, ``score() -> PracticeScore``, ``reset(side=None)``.

Rules the practice enforces (each refusal is a ``ValueError`` saying, in words a student
understands, what to do; a number out of range is named with its allowed range):

* Angles may change only while the tip has not entered bone (any vertebra) along the current
  line; the skin entry only with the needle out of the skin (depth 0). Once cement is in, the
  needle stays put until the student starts over (:meth:`Practice.reset`).
* Cement only with the tip inside the vertebral body of the treated level (as
  :func:`vp3d.needle.assess` judges it), in whole 0.5 mL steps of at most 2 mL per call, up to
  :data:`MAX_CEMENT_ML`. The fill is simulated once per needle pose from the student's own needle
  (:func:`vp3d.cement.simulate_injection`) and shared between sessions of the same model.
* A route is planned before the needle enters the skin: ``"transpedicular"`` (default, any
  level) or ``"parapedicular"`` (thoracic levels, T1-T12, passing lateral to the pedicle by the
  rib head); only a planned parapedicular route makes a lateral wall crossing part of the plan.
* A shot is one view imaged in a new state (needle moved, cement added, C-arm turned). Asking
  again for an unchanged view returns the same image and costs nothing.
"""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import pyvista as pv

from vp3d.anatomy.volume import Label
from vp3d.cement import simulate_up_to
from vp3d.fluoro import CArm
from vp3d.needle.path import (NEEDLE_LENGTH_MM, PARAPEDICULAR_LEVELS, Needle, SafetyReport, Trajectory, assess,
                              plan_parapedicular)
from vp3d.practice.aim import AIM_FIELDS, NeedleAim, aim_of, first_inside, planned_trajectory, trajectory_for
from vp3d.practice.carm_views import CARM_VIEWS, check_view, turned
from vp3d.practice.record import CEMENT_STEP_ML, LEAK_VISIBLE_ML, VENOUS_LEAK_KINDS, LeakSeen, RunRecord, TipRecord
from vp3d.practice.score import PracticeScore, score_run
from vp3d.practice.shared import shared_for
from vp3d.practice.tip import body_depth_fraction, front_wall_depth_mm, label_at, tip_place, tissue_words
from vp3d.practice.values import check_side, number_in

#: One advance or withdraw step (mm): small steps, checked on the images in between.
STEP_RANGE_MM = (0.5, 10.0)
#: Deepest the tip may go past the skin entry (the needle's length less a hand-hold), mm.
MAX_DEPTH_MM = NEEDLE_LENGTH_MM - 10.0
#: Cement per :meth:`Practice.inject` call: whole multiples of CEMENT_STEP_ML, up to this (mL).
MAX_CEMENT_PER_CALL_ML = 2.0
#: Most cement one practice simulates and accepts (mL); single-level fills rarely exceed it.
MAX_CEMENT_ML = 8.0
#: Routes a student may plan, and the levels where each is accepted.
ROUTES = ("transpedicular", "parapedicular")
#: Paths and front-wall depths kept per practice (one per aim tried).
_AIM_CACHE = 64


class Practice:
    """One student's needle and cement on a shared :class:`vp3d.procedure.case.ProcedureModel`.

    Parameters
    ----------
    model : vp3d.procedure.case.ProcedureModel
        Read only: its fractured X-ray spine and volume, planned needles and default views.
    side : str
        ``"right"`` or ``"left"`` pedicle to start with.
    bipedicular : bool
        Aim at the needle's own half of the body (True, as the model plans) or at the midline.
    """

    def __init__(self, model, side: str = "right", *, bipedicular: bool = True):
        self.model = model
        self.level = model.choices.level
        self.route = "transpedicular"
        self.bipedicular = bool(bipedicular)
        self._spine = model.broken_spine
        self._volume = model.broken_volume
        self._shared = shared_for(model)
        self.side = check_side(side)
        self.reset()

    # -- state ---------------------------------------------------------------------------------
    def reset(self, side: str | None = None) -> None:
        """Start again: needle out at the planned aim, no cement, no shots, home C-arm views."""
        self.side = check_side(self.side if side is None else side)
        self._traj_cache: dict[NeedleAim, tuple[Trajectory, float | None]] = {}
        self._exit_cache: dict[NeedleAim, float | None] = {}
        self._plan()
        self.depth_mm = 0.0
        self.cement_ml = 0.0
        self.shots = 0
        self._carms = dict(self.model.views)
        self._shown: dict[str, tuple[tuple, np.ndarray]] = {}
        self._result = None  # CementResult of the pose the cement went in from
        self._mask: tuple[float, np.ndarray] | None = None
        self._breaches: set[str] = set()
        self._anterior_past_mm: float | None = None  # furthest the tip went past the front wall
        self._min_clearance_mm = math.inf
        self._crossed_early = False
        self._at_injection: TipRecord | None = None
        self._first_leak_ml: float | None = None
        self._first_venous_ml: float | None = None  # cement in when a vein first showed cement

    def _trajectory(self, aim: NeedleAim) -> tuple[Trajectory, float | None]:
        """Path of ``aim`` and the depth where it first enters any bone (cached per aim)."""
        hit = self._traj_cache.get(aim)
        if hit is None:
            if aim.side != self.side:
                raise ValueError(f"aim is for the {aim.side} side but the practice is on the {self.side}")
            traj = trajectory_for(self._spine, self.level, aim, self.gauge, target_mm=self.planned.target_mm)
            bone = [first_inside(v, traj.skin_entry_mm, traj.direction, MAX_DEPTH_MM)
                    for v in self._spine.vertebrae.values()]
            bone = [b for b in bone if b is not None]
            hit = (traj, min(bone) if bone else None)
            if len(self._traj_cache) > _AIM_CACHE:
                self._traj_cache.clear()
            self._traj_cache[aim] = hit
        return hit

    def trajectory(self) -> Trajectory:
        """The current needle path (:func:`vp3d.practice.aim.trajectory_for` of :attr:`aim`)."""
        return self._trajectory(self.aim)[0]

    def bone_entry_depth_mm(self) -> float | None:
        """Depth at which the current line first enters any bone (None if it never does)."""
        return self._trajectory(self.aim)[1]

    def needle(self) -> Needle:
        """The needle now; at depth 0 its tip rests on the skin entry (it shows on the images)."""
        return Needle(self.trajectory(), self.depth_mm)

    def safety(self) -> SafetyReport:
        """:func:`vp3d.needle.assess` of the needle now (walls, breach, medial-line rule, target)."""
        return assess(self._spine, self.needle())

    def tip_label(self) -> Label | None:
        """The tissue label at the needle tip (the fine box, else the trunk around it), or None."""
        return label_at(self._volume, self.needle().tip_mm)

    def tip_tissue(self) -> str:
        """The tissue at the needle tip, in words, from the volume's labels."""
        return tissue_words(self.tip_label())

    def tip_place(self) -> str:
        """Where the tip is, as a phrase after "the tip is": "in fat", "outside the imaged box"."""
        return tip_place(self.tip_label())

    def tip_depth_fraction(self) -> float:
        """Tip position front-to-back in the level's body: 0 posterior wall, 1 anterior wall."""
        return body_depth_fraction(self._spine.vertebrae[self.level], self.needle().tip_mm)

    def _front_wall_depth_mm(self, aim: NeedleAim) -> float | None:
        """Depth where ``aim``'s line leaves the treated body through its front wall (cached)."""
        if aim not in self._exit_cache:
            if len(self._exit_cache) > _AIM_CACHE:
                self._exit_cache.clear()
            self._exit_cache[aim] = front_wall_depth_mm(self._spine.vertebrae[self.level],
                                                        self._trajectory(aim)[0], MAX_DEPTH_MM)
        return self._exit_cache[aim]

    def anterior_breach(self) -> bool:
        """True while the tip is out through the front (anterior or anterolateral) wall of the body.

        The tip has passed the depth where the needle's line, having been inside the treated
        vertebral body, leaves it through its front wall (beyond lie the great vessels).
        """
        wall = self._front_wall_depth_mm(self.aim)
        return wall is not None and self.depth_mm > wall

    def _note(self) -> SafetyReport:
        """Assess the pose now and remember any breach or rule broken along the way."""
        report = self.safety()
        if self.anterior_breach():
            past = self.depth_mm - self._front_wall_depth_mm(self.aim)
            self._anterior_past_mm = max(past, self._anterior_past_mm or 0.0)
        if self.depth_mm > 0:
            if report.breach is not None:
                self._breaches.add(report.breach)
            if math.isfinite(report.wall_clearance_mm):
                self._min_clearance_mm = min(self._min_clearance_mm, report.wall_clearance_mm)
            self._crossed_early |= report.medial_line_crossed_early
        return report

    _LOCKED_WORDS = {"advance": "advance the needle", "withdraw": "pull the needle back",
                     "set_aim": "change the aim", "set_side": "change side",
                     "set_route": "change the planned route"}

    def _needle_locked(self, what: str) -> None:
        if self.cement_ml > 0:
            raise ValueError(f"The cement is in, so the needle stays where it is: you cannot "
                             f"{self._LOCKED_WORDS.get(what, what)} now. Start over to practise again.")

    # -- needle --------------------------------------------------------------------------------
    def advance(self, step_mm: float) -> SafetyReport:
        """Push the needle ``step_mm`` (0.5-10 mm) deeper along its line; returns its safety."""
        step = number_in("step_mm", step_mm, *STEP_RANGE_MM, "mm")
        self._needle_locked("advance")
        if self.depth_mm + step > MAX_DEPTH_MM + 1e-9:
            raise ValueError(f"the needle is {NEEDLE_LENGTH_MM:g} mm long, so its tip can go at most "
                             f"{MAX_DEPTH_MM:g} mm deep: it is at {self.depth_mm:g} mm, and a step "
                             f"(step_mm) of {step:g} mm would take it to {self.depth_mm + step:g} mm")
        self.depth_mm += step
        return self._note()

    def withdraw(self, step_mm: float) -> SafetyReport:
        """Pull the needle back ``step_mm`` (0.5-10 mm, at most its depth); returns its safety."""
        step = number_in("step_mm", step_mm, *STEP_RANGE_MM, "mm")
        self._needle_locked("withdraw")
        if step > self.depth_mm + 1e-9:
            raise ValueError(f"the step (step_mm) of {step:g} mm is more than the needle's depth of "
                             f"{self.depth_mm:g} mm: withdraw at most {self.depth_mm:g} mm")
        self.depth_mm = max(self.depth_mm - step, 0.0)
        return self._note()

    def set_aim(self, **changes) -> NeedleAim:
        """Change the aim's ``entry_lateral_mm``, ``entry_cranial_mm``, ``medial_deg`` or ``caudal_deg``.

        Angles may change while the tip has not entered bone, the skin entry only with the
        needle out of the skin; the side changes with :meth:`set_side`.
        """
        unknown = sorted(set(changes) - set(AIM_FIELDS))
        if unknown:
            hint = "; the side is changed on its own (set_side)" if "side" in unknown else ""
            raise ValueError(f"the aim can only change {', '.join(AIM_FIELDS[:-1])} or {AIM_FIELDS[-1]}, "
                             f"got {', '.join(unknown)}{hint}")
        new = dataclasses.replace(self.aim, **changes)  # validates every field
        if new == self.aim:
            return self.aim
        self._needle_locked("set_aim")
        moves_entry = any(getattr(new, f) != getattr(self.aim, f) for f in AIM_FIELDS[:2])
        if moves_entry and self.depth_mm > 0:
            raise ValueError(f"withdraw the needle out of the skin (depth 0, now {self.depth_mm:g} mm) "
                             "before moving the skin entry")
        bone = self.bone_entry_depth_mm()
        if bone is not None and self.depth_mm > bone:
            raise ValueError(f"withdraw the needle out of the bone before changing its angle: the tip is "
                             f"{self.depth_mm - bone:.1f} mm past the bony entry, withdraw at least "
                             "that much")
        new_bone = self._trajectory(new)[1]
        if new_bone is not None and self.depth_mm > new_bone:
            raise ValueError("that angle would swing the tip into bone: withdraw the needle "
                             f"{self.depth_mm - new_bone:.1f} mm or more first")
        self.aim = new
        self._note()
        return new

    def set_side(self, side: str) -> NeedleAim:
        """Switch pedicle (needle out of the skin, no cement): the aim goes back to the plan."""
        side = check_side(side)
        if side == self.side:
            return self.aim
        self._needle_locked("set_side")
        if self.depth_mm > 0:
            raise ValueError(f"withdraw the needle fully (depth 0, now {self.depth_mm:g} mm) "
                             "before changing side")
        self.side = side
        self._plan()
        return self.aim

    def _plan(self, route: str | None = None) -> None:
        """Plan the path of ``route`` (default: the current one) on the current side; the
        aim goes to the plan. A route the anatomy does not allow raises and changes nothing."""
        route = self.route if route is None else route
        if route == "parapedicular":
            planned = plan_parapedicular(self._spine, self.level, self.side, bipedicular=self.bipedicular)
        else:
            planned = planned_trajectory(self.model, self.level, self.side, self.bipedicular)
        self.route, self.planned, self.gauge = route, planned, planned.gauge
        self._traj_cache.clear()
        self._exit_cache.clear()
        self.aim = aim_of(planned, self._spine)

    def set_route(self, route: str) -> str:
        """Plan the route before the needle enters the skin: ``"transpedicular"`` or, at thoracic
        levels (T1-T12), ``"parapedicular"``, which passes lateral to the pedicle by the rib head
        (:func:`vp3d.needle.plan_parapedicular`). The aim goes to the new plan."""
        if route not in ROUTES:
            raise ValueError(f"route must be one of {', '.join(ROUTES)}, got {str(route)[:40]!r}")
        if route == self.route:
            return route
        if route == "parapedicular" and self.level not in PARAPEDICULAR_LEVELS:
            raise ValueError(f"a parapedicular route is planned only at thoracic levels (T1-T12), where it "
                             f"passes by the rib head; at {self.level} keep to the pedicle")
        self._needle_locked("set_route")
        if self.depth_mm > 0:
            raise ValueError(f"plan the route before the needle goes in: withdraw it fully (depth 0, now "
                             f"{self.depth_mm:g} mm) first")
        self._plan(route)
        return route

    # -- imaging -------------------------------------------------------------------------------
    def carm(self, view: str) -> CArm:
        """The C-arm pose of ``view`` now."""
        return self._carms[check_view(view)]

    def rotate(self, view: str, lao_deg: float | None = None, cranial_deg: float | None = None) -> CArm:
        """Turn the C-arm of ``view`` (see :func:`vp3d.practice.carm_views.turned`); returns it."""
        view = check_view(view)
        self._carms[view] = turned(view, self._carms[view], lao_deg, cranial_deg)
        return self._carms[view]

    def images(self, views=CARM_VIEWS) -> dict[str, np.ndarray]:
        """Fluoroscopy of ``views`` now (uint8, read-only); each newly taken image is one shot."""
        if isinstance(views, str):
            views = (views,)
        views = [check_view(v) for v in views]
        needle = self.needle()
        mask = self._cement_mask()
        state = (self.aim, self.depth_mm, self.cement_ml)
        out = {}
        for view in views:
            carm = self._carms[view]
            key = (carm.key, state)
            shown = self._shown.get(view)
            if shown is None or shown[0] != key:
                self.shots += 1
                image = self._shared.scope.radiograph(carm, needle=[needle], cement=mask,
                                                      noise_seed=self.shots).image
                image.flags.writeable = False
                shown = self._shown[view] = (key, image)
            out[view] = shown[1]
        return out

    # -- cement --------------------------------------------------------------------------------
    def _simulate(self):
        """The fill from the needle now (simulated once per pose, shared per model)."""
        needle = self.needle()

        def simulate():
            try:
                return simulate_up_to(self._volume, [needle], MAX_CEMENT_ML)  # or what the body holds
            except ValueError as error:  # the detail stays in the traceback, not in the message
                raise ValueError("cement cannot go in from this needle position: place the tip well "
                                 "inside the vertebral body and try again") from error

        return self._shared.cement((self.side, self.aim, round(self.depth_mm, 6), self.gauge), simulate)

    def _tip_now(self, report: SafetyReport | None = None) -> TipRecord:
        """The tip's place now, as the record keeps it."""
        report = report or self.safety()
        return TipRecord(bool(report.tip_in_body), float(report.tip_to_target_mm), self.tip_depth_fraction(),
                         self.anterior_breach())

    def inject(self, ml: float = CEMENT_STEP_ML) -> list:
        """Inject ``ml`` (whole 0.5 mL steps, up to 2 mL) with the tip in the body; returns the leaks."""
        ml = number_in("ml", ml, CEMENT_STEP_ML, MAX_CEMENT_PER_CALL_ML, "mL")
        steps = ml / CEMENT_STEP_ML
        if abs(steps - round(steps)) > 1e-9:
            raise ValueError(f"the cement dose (ml) must be a whole number of {CEMENT_STEP_ML:g} mL steps, "
                             f"got {ml:g}")
        report = self.safety()
        if not report.tip_in_body:
            raise ValueError(f"the tip is {self.tip_place()}, not in the vertebral body of {self.level}: "
                             "advance it into the body (check the lateral view) before injecting cement")
        total = self.cement_ml + ml
        if total > MAX_CEMENT_ML + 1e-9:
            raise ValueError(f"at most {MAX_CEMENT_ML:g} mL of cement in one practice: {self.cement_ml:g} mL "
                             f"is in, so {ml:g} mL more (ml) is too much")
        result = self._result if self._result is not None else self._simulate()
        if total > result.total_ml + result.voxel_ml:  # the simulation rounds to whole voxels
            raise ValueError(f"from this needle position the vertebral body, with the paths cement leaks "
                             f"along, holds only {result.total_ml:g} mL ({self.cement_ml:g} mL is in): "
                             "stop injecting")
        if self._result is None:
            self._result = result
            self._at_injection = dataclasses.replace(self._tip_now(report), through_front_wall=False)
        self.cement_ml = total
        leaks = self.leaks()
        if leaks and self._first_leak_ml is None:
            self._first_leak_ml = total
        if self._first_venous_ml is None and self.venous_leaks():
            self._first_venous_ml = total
        return leaks

    def _fill_ml(self) -> float:
        """The fill level to ask the simulation for (its total is rounded to whole voxels)."""
        return min(self.cement_ml, self._result.total_ml)

    @property
    def cement_result(self):
        """The :class:`vp3d.cement.CementResult` the cement comes from (None before any)."""
        return self._result

    def leaks(self) -> list:
        """:class:`vp3d.cement.Leak` list at the cement injected so far."""
        if self._result is None or self.cement_ml <= 0:
            return []
        return self._result.leaks_at(self._fill_ml())

    def venous_leaks(self) -> list:
        """Visible leaks into a vein (Yeom type B or S) now: each one means stop or pause."""
        return [lk for lk in self.leaks() if lk.kind in VENOUS_LEAK_KINDS and lk.volume_ml >= LEAK_VISIBLE_ML]

    def _cement_mask(self) -> np.ndarray | None:
        if self._result is None or self.cement_ml <= 0:
            return None
        if self._mask is None or self._mask[0] != self.cement_ml:
            self._mask = (self.cement_ml, self._result.mask_at(self._fill_ml()))
        return self._mask[1]

    def cement_mesh(self) -> pv.PolyData:
        """Closed surface of the cement injected so far (empty before any), patient mm."""
        if self._result is None or self.cement_ml <= 0:
            return pv.PolyData()
        return self._result.mesh_at(self._fill_ml())

    # -- record and score ----------------------------------------------------------------------
    def record(self) -> RunRecord:
        """What happened so far, as plain values (the score reads only this)."""
        return RunRecord(
            level=self.level, route=self.route, tip=self._at_injection or self._tip_now(),
            breaches=frozenset(self._breaches), min_clearance_mm=self._min_clearance_mm,
            crossed_early=self._crossed_early, anterior_past_mm=self._anterior_past_mm,
            needle_outer_diameter_mm=float(self.trajectory().outer_diameter_mm), shots=int(self.shots),
            cement_ml=float(self.cement_ml), first_leak_ml=self._first_leak_ml,
            first_venous_ml=self._first_venous_ml,
            leaks=tuple(LeakSeen(lk.kind, float(lk.volume_ml), lk.yeom_type) for lk in self.leaks()))

    def score(self) -> PracticeScore:
        """The run so far against the literature (:func:`vp3d.practice.score.score_run`)."""
        return score_run(self.record())
