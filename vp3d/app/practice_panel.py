"""Student practice on the page: aim and advance a needle under AP/lateral fluoroscopy, inject.

State and handlers only; the widgets are in :mod:`vp3d.app.practice_ui`. The engine is
:class:`vp3d.practice.run.Practice` (one per session, over the session's shared, read-only
:class:`vp3d.procedure.case.ProcedureModel`); the readouts come from
:func:`vp3d.practice.readout.readout`, the camera and visibility from ``scenes/practice.yaml``
(:func:`vp3d.practice.guide.practice_guide`). Every control reaches the server as one trigger
with its value; the engine checks it and a refused value comes back as a message on the page,
with the controls put back to what the engine holds. A message lasts until the next one, the
next accepted action, Start over or a new model, whichever comes first.
"""

from __future__ import annotations

import functools
from dataclasses import replace
from typing import Any

from vp3d.app.boundary import PanelHost, guarded
from vp3d.app.fluoro_panel import data_url
from vp3d.app.story import page_number
from vp3d.needle.path import PARAPEDICULAR_LEVELS
from vp3d.practice.aim import AIM_RANGES, aim_of
from vp3d.practice.guide import practice_guide
from vp3d.practice.carm_views import CARM_VIEWS, page_rotation_deg
from vp3d.practice.readout import readout


#: Fields of the aim a student sets, their labels, units and slider ranges (the engine
#: checks the same ranges and says so when a value is outside them).
AIM_FIELDS = {
    "medial_deg": ("Medial angle (transverse plane)", "\u00b0"),
    "caudal_deg": ("Caudal angle (sagittal plane)", "\u00b0"),
    "entry_lateral_mm": ("Skin entry from the midline", " mm"),
    "entry_cranial_mm": ("Skin entry above the level's centre", " mm"),
}
ADVANCE_STEPS_MM = (1.0, 2.0, 5.0, 10.0)
#: Drag on a fluoroscopy image: degrees of re-aim per image width dragged.
DRAG_DEG_PER_WIDTH = 30.0
CARM_FIELDS = ("lao_deg", "cranial_deg")
VIEW_NAMES = {"ap": "AP", "lateral": "Lateral"}
IMAGE_CHOICES = ("both", "ap", "lateral")


class PracticePanel:
    """Needle and cement practice for one session, through a narrow :class:`PanelHost` and the
    session's 3-D scene (:class:`vp3d.app.scene3d.Scene3D`)."""

    def __init__(self, host: PanelHost, scene3d: Any) -> None:
        self.host = host
        self.scene3d = scene3d
        self.practice: Any = None
        self._model: Any = None
        self.active = False
        self._init_state()
        self._shown: dict[str, dict] = {}
        self._base: tuple | None = None  # (model, its collapsed frame): the scene under the needle
        for name in ("practice_aim", "practice_advance", "practice_side", "practice_route", "practice_drag",
                     "practice_carm", "practice_inject", "practice_reset", "practice_score",
                     "practice_planned", "practice_views", "practice_shoot"):
            host.server.trigger(name)(self._page_call(getattr(self, name)))

    def clear_error(self) -> None:
        """Drop the page's message (a refusal is about the state it refused in)."""
        if self.host.state.error_message:
            with self.host.state:
                self.host.state.error_message = ""

    def close(self) -> None:
        """Drop the practice and its model (session end)."""
        self.practice = self._model = self._base = None
        self._shown.clear()

    def _init_state(self) -> None:
        s = self.host.state
        s.pr_ready = False
        s.pr_side = "right"
        s.pr_route = "transpedicular"
        s.pr_parapedicular_ok = False  # a parapedicular route is offered at thoracic levels
        for k in AIM_FIELDS:
            s[f"pr_{k}"] = 0.0
        s.pr_planned = {}
        s.pr_ranges = {}
        s.pr_depth_mm, s.pr_target_depth_mm = 0.0, 0.0
        s.pr_locked = False
        s.pr_entry_locked = False
        s.pr_ap_lao_deg, s.pr_ap_cranial_deg = 0.0, 0.0
        s.pr_lateral_lao_deg, s.pr_lateral_cranial_deg = 0.0, 0.0  # from the true lateral
        s.pr_images = []
        s.pr_views = "both"  # which views are taken after each move: both, ap or lateral
        s.pr_shots = 0
        s.pr_cement_ml = 0.0
        s.pr_feedback = []
        s.pr_alert = ""
        s.pr_score = None
        s.pr_show_planned = False

    def _page_call(self, handler):
        """``handler`` as a page call: refused values become a message and the controls are
        put back to what the engine holds; an accepted action clears the last refusal."""

        @functools.wraps(handler)
        def accepted(*args: Any, **kwargs: Any) -> Any:
            result = handler(*args, **kwargs)
            self.clear_error()
            return result

        return guarded(accepted, self.host.show_error, before=self._ready, recover=self._publish)

    def _ready(self) -> None:
        self.host.activity()
        if self.practice is None:
            raise ValueError("practice is not ready yet: open Practice once the model is built")

    # ------------------------------------------------------------------ life cycle

    def on_model(self, model: Any) -> None:
        """A new engine model (another level or fracture): start the practice over on it."""
        self._model = model
        self.clear_error()
        if self.active:
            self._start()
        else:
            self.practice = None  # started afresh on the new model when Practice opens

    def enter(self, model: Any) -> None:
        """Practice mode opens on ``model`` (``None`` while it is being built)."""
        self.active = True
        if model is not None and (self.practice is None or self.practice.model is not model):
            self._model = model
            self._start()

    def leave(self) -> None:
        self.active = False

    def _start(self, side: str | None = None) -> None:
        from vp3d.practice.run import Practice

        side = side or (self.practice.side if self.practice is not None else "right")
        self.practice = Practice(self._model, side=side)
        self._shown = {}
        with self.host.state:
            self.host.state.pr_score = None
            self.host.state.pr_ready = True
        self._publish(images=True, camera=True)

    # ------------------------------------------------------------------ handlers

    def practice_aim(self, field: Any, value: Any) -> None:
        if field not in AIM_FIELDS:
            raise ValueError(f"aim field must be one of {', '.join(AIM_FIELDS)}, got {str(field)[:40]!r}")
        number = page_number(AIM_FIELDS[field][0], value)
        if abs(number - float(getattr(self.practice.aim, field))) < 0.05:
            self._publish()  # the page shows values to 0.1: the same value is no new aim
            return
        self.practice.set_aim(**{field: number})
        self._publish(images=True)

    def practice_drag(self, view: Any, dx: Any, dy: Any) -> None:
        """Aim by dragging on an image: sideways on AP turns the needle medially or laterally,
        up and down on the lateral view tilts it cranially or caudally."""
        if view not in CARM_VIEWS:
            raise ValueError(f"drag view must be 'ap' or 'lateral', got {str(view)[:40]!r}")
        fx, fy = page_number("drag across", dx), page_number("drag down", dy)
        if abs(fx) > 1.5 or abs(fy) > 1.5:
            raise ValueError("a drag is a fraction of the image size, between -1.5 and 1.5")
        aim = self.practice.aim
        if view == "ap":
            # AP is shown as seen from the source: the patient's right on the viewer's left.
            towards_midline = fx if aim.side == "right" else -fx
            self.practice.set_aim(medial_deg=aim.medial_deg + towards_midline * DRAG_DEG_PER_WIDTH)
        else:
            self.practice.set_aim(caudal_deg=aim.caudal_deg + fy * DRAG_DEG_PER_WIDTH)
        self._publish(images=True)

    def practice_advance(self, mm: Any) -> None:
        step = page_number("advance step", mm)
        if step >= 0:
            self.practice.advance(step)
        else:
            self.practice.withdraw(-step)
        self._publish(images=True)

    def practice_side(self, side: Any) -> None:
        if side not in ("right", "left"):
            raise ValueError(f"side must be 'right' or 'left', got {str(side)[:40]!r}")
        self.practice.set_side(side)
        self._publish(images=True, camera=True)

    def practice_route(self, route: Any) -> None:
        """Plan ``"transpedicular"`` or (thoracic levels) ``"parapedicular"`` before going in."""
        try:
            self.practice.set_route(route)
        finally:
            # The aim moves to the new route's plan; a refused choice goes back to the engine's.
            self._publish(images=True)

    def practice_carm(self, view: Any, field: Any, value: Any) -> None:
        if view not in CARM_VIEWS:
            raise ValueError(f"C-arm view must be 'ap' or 'lateral', got {str(view)[:40]!r}")
        if field not in CARM_FIELDS:
            raise ValueError(f"C-arm setting must be one of {', '.join(CARM_FIELDS)}, got {str(field)[:40]!r}")
        number = page_number(field, value)
        if view == "lateral" and field == "lao_deg":
            number -= 90.0  # the page counts from the true lateral; the C-arm's lateral is -90
        self.practice.rotate(view, **{field: number})
        self._publish(images=True, views=view)

    def practice_inject(self, ml: Any = 0.5) -> None:
        self.practice.inject(page_number("cement step", ml))
        self._publish(images=True)

    def practice_views(self, which: Any) -> None:
        """Which views each move takes: ``"both"``, ``"ap"`` or ``"lateral"`` (fewer shots)."""
        if which not in IMAGE_CHOICES:
            raise ValueError(f"images after each move must be one of {', '.join(IMAGE_CHOICES)}, "
                             f"got {str(which)[:40]!r}")
        with self.host.state:
            self.host.state.pr_views = which

    def practice_shoot(self, which: Any) -> None:
        """Take images now: ``"both"``, ``"ap"`` or ``"lateral"``."""
        if which not in IMAGE_CHOICES:
            raise ValueError(f"take images of must be one of {', '.join(IMAGE_CHOICES)}, got {str(which)[:40]!r}")
        self._publish(images=True, views=which)

    def practice_reset(self) -> None:
        self.practice.reset()
        self._shown = {}
        with self.host.state:
            self.host.state.pr_score = None
        self._publish(images=True)

    def practice_planned(self, shown: Any) -> None:
        if not isinstance(shown, bool):
            raise ValueError(f"show planned path must be true or false, got {type(shown).__name__}")
        with self.host.state:
            self.host.state.pr_show_planned = shown
        self._publish()

    def practice_score(self) -> None:
        score = self.practice.score()
        with self.host.state:
            self.host.state.pr_score = _score_dict(score)

    # ------------------------------------------------------------------ showing

    def _publish(self, *, images: bool = False, camera: bool = False, views: str | None = None) -> None:
        """Put the engine's state on the page (and redraw the 3D view and the images)."""
        p = self.practice
        if p is None:
            return
        s = self.host.state
        report = p.safety()
        planned = aim_of(p.planned, self._model.broken_spine)
        bone = p.bone_entry_depth_mm()
        with s:
            s.pr_side = p.side
            s.pr_route = p.route
            s.pr_parapedicular_ok = p.level in PARAPEDICULAR_LEVELS
            for k in AIM_FIELDS:
                s[f"pr_{k}"] = round(float(getattr(p.aim, k)), 1)
            s.pr_planned = {k: round(float(getattr(planned, k)), 1) for k in AIM_FIELDS}
            s.pr_ranges = {k: list(AIM_RANGES[k]) for k in AIM_FIELDS}
            s.pr_depth_mm = round(float(p.depth_mm), 1)
            s.pr_target_depth_mm = round(float(p.trajectory().target_depth_mm), 1)
            s.pr_locked = bool(p.cement_ml > 0 or (bone is not None and p.depth_mm > bone))
            s.pr_entry_locked = bool(p.depth_mm > 0 or p.cement_ml > 0)
            for view in CARM_VIEWS:
                carm = p.carm(view)
                s[f"pr_{view}_lao_deg"] = round(float(page_rotation_deg(view, carm)), 1)
                s[f"pr_{view}_cranial_deg"] = round(float(carm.cranial_deg), 1)
            s.pr_cement_ml = round(float(p.cement_ml), 1)
            if images:
                s.pr_images = self._images(views or s.pr_views)
            s.pr_feedback, s.pr_alert = readout(p, report)
            s.pr_shots = int(p.shots)
        if self.active and self.host.mode() == "practice":
            self.show(camera=camera)

    def _images(self, which: str) -> list[dict]:
        """Take the chosen views now; a view not taken keeps its last image, marked as older."""
        p = self.practice
        wanted = CARM_VIEWS if which == "both" or not self._shown else (which,)
        taken = p.images(wanted)
        for view, image in taken.items():
            c = p.carm(view)
            rotation = page_rotation_deg(view, c)
            angles = f"{rotation:+.0f}\u00b0 rotation, {c.cranial_deg:+.0f}\u00b0 tilt"
            self._shown[view] = {"view": view, "src": data_url(image), "angles": angles,
                                 "state": self._pose(view)}
        out = []
        for view in CARM_VIEWS:
            entry = self._shown.get(view)
            if entry is None:
                continue
            stale = entry["state"] != self._pose(view)
            note = " \u00b7 earlier image" if stale else ""
            out.append({"view": view, "src": entry["src"], "stale": stale,
                        "alt": f"Fluoroscopy {VIEW_NAMES[view]} ({entry['angles']}){note}",
                        "caption": f"{VIEW_NAMES[view]} \u00b7 {entry['angles']}{note}"})
        return out

    def _pose(self, view: str) -> tuple:
        """What one view's image shows: the needle, the cement and that view's C-arm."""
        p = self.practice
        carm = p.carm(view)
        return (p.aim, round(p.depth_mm, 3), round(p.cement_ml, 3), carm.lao_deg, carm.cranial_deg)

    def show(self, *, camera: bool = False) -> None:
        """Draw the practice in 3D: the fractured level, the student's needle, the cement."""
        p = self.practice
        if p is None or self._model is None:
            return
        if self._base is None or self._base[0] is not self._model:
            self._base = (self._model, self._model.frame({"fracture.t": 1.0}))  # once per model
        frame = self._base[1]
        meshes = dict(frame.meshes)
        from vp3d.needle.path import Needle
        from vp3d.procedure.case import needle_mesh

        if p.depth_mm > 0:
            meshes["needle 1"] = needle_mesh(p.needle())
        if self.host.state.pr_show_planned:
            meshes["needle 2"] = needle_mesh(Needle(p.planned, p.planned.target_depth_mm))
        cement = p.cement_mesh()
        if cement.n_points:
            meshes["cement"] = cement
        scene = self.scene3d
        guide = practice_guide()
        visible = guide.visibility(needle_in=p.depth_mm > 0 and not self.host.state.part_labels)
        scene.apply(replace(frame, meshes=meshes), visible)
        with self.host.state:
            self.host.state.legend = scene.legend()
            self.host.state.part_anchors = scene.label_anchors()
        if camera:
            scene.place_camera(guide.camera(p.side))
        self.host.ctrl.view_update()
        if camera:
            self.host.ctrl.view_push_camera()


def _score_dict(score: Any) -> dict:
    return {"items": [{"name": i.name, "value": i.value, "good": i.good, "verdict": i.verdict,
                       "advice": getattr(i, "advice", ""), "reference": i.reference} for i in score.items],
            "summary": f"Overall: {score.verdict}. Each line compares your run with the figure "
                       "or teaching target beside it."}
