"""State and controller of the vp3d story page (layout in :mod:`vp3d.app.ui`).

One :class:`VertebroplastyApp` owns one trame server's state: the clinician's choices, the
engine model built for them (:class:`vp3d.procedure.model.ProcedureModel`, built in a worker thread
with progress shown), the story timeline (:mod:`vp3d.app.story`), the 3D scene
(:mod:`vp3d.app.scene3d`), the fluoroscopy images (:mod:`vp3d.app.fluoro_panel`) and the spoken
narration (:mod:`vp3d.app.audio`). Nothing is kept at module level, so several apps can live in
one process, each on its own server. One trame server has one state: every tab open on the
same server sees (and drives) the same story.

Errors raised while handling a browser event are caught at that boundary: the message goes to
``state.error_message`` (shown by the page) and the session keeps running.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import functools
import inspect
import logging
import threading
import time
from collections.abc import Callable
from typing import Any

from trame.app import TrameApp
from trame.decorators import change, trigger

from vp3d.app import audio, story
from vp3d.app.boundary import page_message, wrong_values_message
from vp3d.app.fluoro_panel import FluoroPanel
from vp3d.app.practice_panel import PracticePanel
from vp3d.app.quiz_panel import QuizPanel
from vp3d.app.scene3d import Scene3D
from vp3d.app.story import AUDIENCE_MODES, PAGE_MODES, ViewChoice

logger = logging.getLogger(__name__)

TITLE = "vp3d \u2014 Vertebroplasty in 3D"
FLUORO_ROWS = 256  # small images: a few kB each as JPEG
KIOSK_IDLE_S = 120.0
TICK_S = 0.25

#: Camera presets a student may jump to ("View from"), with their names on the page.
VIEW_PRESETS = {"overview": "Overview", "posterior": "From behind", "lateral": "Lateral",
                "oblique": "Oblique", "close_level": "Close up"}
_ORDINALS = ("1st", "2nd", "3rd") + tuple(f"{n}th" for n in range(4, 13))
_REGION = {"C": "cervical", "T": "thoracic", "L": "lumbar", "S": "sacral"}


def describe_level(level: str) -> str:
    """Name a vertebral level in words: ``"L1"`` → ``"1st lumbar vertebra"`` (else unchanged)."""
    if len(level) < 2 or level[0] not in _REGION or not level[1:].isdigit():
        return level
    number = int(level[1:])
    suffix = "th" if 10 <= number % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(number % 10, "th")
    return f"{number}{suffix} {_REGION[level[0]]} vertebra"


def _default_model_factory(choices, progress=None):
    from vp3d.procedure.model import ProcedureModel

    return ProcedureModel(choices, progress=progress, rows=FLUORO_ROWS)


def _session_boundary(method: Callable[..., Any]) -> Callable[..., Any]:
    """Run a handler so that any error becomes a message on the page, not a dead session."""

    signature = inspect.signature(method)

    @functools.wraps(method)
    def guarded(self: VertebroplastyApp, *args: Any, **kwargs: Any) -> Any:
        try:
            signature.bind(self, *args, **kwargs)
        except TypeError:
            self.show_error(wrong_values_message(method.__name__, signature, args, kwargs))
            return None
        try:
            return method(self, *args, **kwargs)
        except Exception as exc:  # noqa: BLE001 - this is the session boundary
            logger.exception("vp3d: %s failed", method.__name__)
            self.show_error(page_message(exc))
            return None

    return guarded


#: Storyboard groups of the body around the spine (vp3d.anatomy.trunk).
BODY_GROUPS = ("ribs", "lungs", "vessels", "organs")


class VertebroplastyApp(TrameApp):
    """The vp3d story page for one trame server.

    Parameters
    ----------
    server : trame server or str or None
        Server (or its name) to attach to; ``None`` uses trame's default server.
    level, grade, kind, procedure, audience : initial choices (checked; bad ones raise).
    kiosk : bool
        Outreach kiosk: patient narration, the story plays on a loop, no clinician choices,
        back to the start after ``idle_s`` without a touch.
    play_speed : float
        Story clock rate (1 = real time); tests run the kiosk loop faster.
    idle_s, tick_s : float
        Kiosk idle time before it starts over; seconds between animation frames.
    model_factory : callable, optional
        ``model_factory(choices, progress=cb) -> ProcedureModel``; tests pass a cached one.
    build_now : bool
        Build the first model in the constructor (tests); else it builds in a worker thread
        once the server is up, with progress shown.
    """

    def __init__(
        self,
        server: Any = None,
        *,
        level: str = "L1",
        grade: int = 2,
        kind: str = "wedge",
        procedure: str = "vertebroplasty",
        audience: str = "patient",
        kiosk: bool = False,
        play_speed: float = 1.0,
        idle_s: float = KIOSK_IDLE_S,
        tick_s: float = TICK_S,
        model_factory: Callable[..., Any] | None = None,
        build_now: bool = False,
    ) -> None:
        super().__init__(server, client_type="vue3")
        story.load_all_scenes()  # a broken storyboard stops the app here, before serving
        checked = {name: story.check_choice(name, value) for name, value in
                   (("level", level), ("grade", grade), ("kind", kind), ("procedure", procedure),
                    ("audience", "kiosk" if kiosk else audience))}
        self.default_choice = ViewChoice(**checked)
        self.choice = self.default_choice
        self.kiosk = bool(kiosk)
        self.idle_s = float(idle_s)
        self.tick_s = float(tick_s)
        self._factory = _default_model_factory if model_factory is None else model_factory
        self.model: Any = None
        self.model_key: tuple | None = None
        self.fluoro: FluoroPanel | None = None
        self.scene3d = Scene3D()
        self.renderer, self.render_window = self.scene3d.renderer, self.scene3d.render_window
        self.timeline = story.Timeline(story.scene_for(self.choice.procedure), loop=self.kiosk,
                                       speed=play_speed)
        self.timeline.playing = self.kiosk
        self._generation = 0
        self._pending_step: str | int | None = None
        self._last_activity = time.monotonic()
        self._touched = False  # kiosk: someone used the page since it last started over
        self._audio_pool = concurrent.futures.ThreadPoolExecutor(1, thread_name_prefix="vp3d-audio")
        self._audio_paths: dict[tuple, Any] = {}
        self._audio_lock = threading.Lock()
        self._player: asyncio.Task | None = None
        self._last_frame: Any = None
        self.frame_count = 0

        self._init_state()
        self.practice = PracticePanel(self)
        self.quiz = QuizPanel(self)
        self._build_ui()
        self.server.controller.on_server_bind.add(self._bind_routes)
        self.server.controller.on_server_ready.add(self._on_ready)
        if build_now:
            self.build_sync(self.choice)

    # ------------------------------------------------------------------ state

    def _init_state(self) -> None:
        s, c = self.state, self.choice
        s.trame__title = TITLE
        s.app_title = TITLE
        s.kiosk = self.kiosk
        s.level, s.grade, s.kind, s.procedure, s.audience = c.level, c.grade, c.kind, c.procedure, c.audience
        s.level_options = [{"title": f"{lv} \u2014 {describe_level(lv)}", "value": lv}
                           for lv in story.story_levels()]
        s.grade_options = [{"title": "Grade 1 (mild)", "value": 1},
                           {"title": "Grade 2 (moderate)", "value": 2},
                           {"title": "Grade 3 (severe)", "value": 3}]
        s.kind_options = [{"title": k.capitalize(), "value": k} for k in story.KIND_NAMES]
        s.procedure_options = [{"title": p.capitalize(), "value": p} for p in story.PROCEDURE_NAMES]
        s.audience_options = [{"title": "Patient", "value": "patient"},
                              {"title": "Student", "value": "student"}]
        s.building, s.build_progress, s.build_message = True, 0, "Preparing the model"
        s.scene_ready = False
        s.scene_title = ""
        s.steps, s.step_index, s.step_count = [], 0, 0
        s.step_title, s.sentences, s.sources = "", [], []
        s.step_time, s.step_duration, s.playing = 0.0, 0.0, self.timeline.playing
        s.fluoro = []
        s.show_ml, s.cement_ml_text = False, ""
        s.readouts = []
        s.legend = []
        s.level_label = ""
        s.show_labels = True
        s.audio_url, s.muted = "", False
        s.error_message, s.notices = "", []
        s.applied_query = None  # the page URL's query once applied (tests wait for it)
        s.mode = "story"
        s.part_labels = False
        s.part_anchors = []
        s.free_camera = False
        s.show_body = False  # students: ribs, lungs, vessels and organs shown faint around the spine
        s.camera_presets = [{"title": title, "value": name} for name, title in VIEW_PRESETS.items()]
        s.mode_options = [{"title": "Story", "value": "story", "icon": "mdi-play-box-outline"},
                          {"title": "Practice", "value": "practice", "icon": "mdi-needle"},
                          {"title": "Quiz", "value": "quiz", "icon": "mdi-help-circle-outline"}]
        self._mode = "story"

    def _build_ui(self) -> None:
        from vp3d.app import ui

        self.ui = ui.build_ui(self)

    def show_error(self, message: str) -> None:
        """Show ``message`` on the page (the session keeps running)."""
        with self.state:
            self.state.error_message = message

    def _bind_routes(self, wslink_server: Any) -> None:
        if getattr(wslink_server, "app", None) is not None:  # per-session apps have no web app:
            audio.add_route(wslink_server.app)  # vp3d.app.sessions serves the route for them

    def _on_ready(self, **_: Any) -> None:
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            # trame may announce readiness before its loop runs: the tasks start with it.
            loop = asyncio.get_event_loop()
        if self.model is None:
            loop.create_task(self._build_async(self.choice))
        if self._player is None:
            self._player = loop.create_task(self._play_loop())

    def close(self) -> None:
        """Release what this session holds once its browser has gone: the play loop and the
        quiz's image task, the narration worker, the offscreen render window and the models.

        Idempotent; the shared engine models stay in :class:`vp3d.app.sessions.SharedModels`.
        """
        for task in (self._player, getattr(self.quiz, "_task", None)):
            if task is not None and not task.done():
                task.cancel()
        self._player = None
        self._audio_pool.shutdown(wait=False, cancel_futures=True)
        self.scene3d.close()
        self.model = self.fluoro = None
        self.practice.close()

    # ------------------------------------------------------------------ model

    def build_sync(self, choice: ViewChoice) -> None:
        """Build the engine model for ``choice`` here and now (tests, scripts)."""
        self._install_model(choice, self._factory(self._choices(choice)))

    @staticmethod
    def _choices(choice: ViewChoice):
        from vp3d.procedure.model import Choices

        return Choices(choice.level, choice.grade, choice.kind, choice.procedure)

    async def _build_async(self, choice: ViewChoice) -> None:
        self._generation += 1
        generation = self._generation
        loop = asyncio.get_running_loop()
        with self.state:
            self.state.building, self.state.build_progress = True, 0
            self.state.build_message = f"Preparing {choice.level}, {choice.procedure}"

        def progress(fraction: float, message: str) -> None:
            def show() -> None:
                if generation == self._generation:
                    with self.state:
                        self.state.build_progress = round(100 * float(fraction))
                        self.state.build_message = message
            loop.call_soon_threadsafe(show)

        try:
            choices = self._choices(choice)
            model = await loop.run_in_executor(None, functools.partial(self._factory, choices,
                                                                       progress=progress))
        except Exception as exc:  # noqa: BLE001 - session boundary for the worker thread
            logger.exception("vp3d: building %s failed", choice)
            if generation == self._generation:
                with self.state:
                    self.state.building = False
                    self.state.error_message = page_message(exc)
                    self._revert_choice_state()
            return
        if generation != self._generation:
            return  # a newer choice is being built
        try:
            self._install_model(choice, model)
        except Exception as exc:  # noqa: BLE001
            logger.exception("vp3d: showing %s failed", choice)
            self.show_error(page_message(exc))

    def _install_model(self, choice: ViewChoice, model: Any) -> None:
        choice = ViewChoice(*choice.engine_key(), self.choice.audience)  # the audience may have moved on
        level_centre = model.spine.vertebrae[choice.level].transform[:3, 3]
        self.scene3d.load(model.parts, choice.level, level_centre)
        self.model, self.model_key = model, choice.engine_key()
        self.fluoro = FluoroPanel(model)
        self.choice = choice
        keep_index = self.timeline.index if self.timeline.scene is story.scene_for(choice.procedure) else 0
        self.timeline.scene = story.scene_for(choice.procedure)
        index = keep_index
        if self._pending_step is not None:
            index, message = story.resolve_step(self.timeline.scene, self._pending_step)
            self._pending_step = None
            if message:
                self._add_notice(message)
        with self.state:
            self.state.building, self.state.build_progress = False, 100
            self.state.scene_ready = True
        self._refresh_texts()
        self.practice.on_model(model)
        self._enter_step(min(index, len(self.timeline.scene.steps) - 1))

    def _request_choice(self, choice: ViewChoice) -> None:
        """Show ``choice``: new narration at once; a new model (in the background) if needed."""
        old = self.choice
        if choice.engine_key() == self.model_key and self.model is not None:
            self.choice = choice
            if choice.procedure != old.procedure:
                self.timeline.scene = story.scene_for(choice.procedure)
            self._refresh_texts()
            self._enter_step(self.timeline.index)
            return
        self.choice = choice
        with self.state:
            self.state.building = True
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            loop = None
        if loop is None:
            self.build_sync(choice)
        else:
            loop.create_task(self._build_async(choice))

    def _revert_choice_state(self) -> None:
        c = self.choice if self.model is None else self._installed_choice()
        self.choice = c
        s = self.state
        s.level, s.grade, s.kind, s.procedure, s.audience = c.level, c.grade, c.kind, c.procedure, c.audience

    def _installed_choice(self) -> ViewChoice:
        level, grade, kind, procedure = self.model_key
        return ViewChoice(level, grade, kind, procedure, self.choice.audience)

    # ------------------------------------------------------------------ texts

    @property
    def context(self) -> dict[str, str]:
        return story.context_for(self.choice)

    def _refresh_texts(self) -> None:
        scene, aud = self.timeline.scene, self.choice.narration_audience
        ctx = self.context
        with self.state:
            self.state.scene_title = scene.title[aud]
            self.state.steps = story.step_list(scene, aud, ctx)
            self.state.step_count = len(scene.steps)
            self.state.level_label = f"{self.choice.level} \u2014 {describe_level(self.choice.level)}"

    def _enter_step(self, index: int, *, from_start: bool | None = None) -> None:
        """Go to step ``index``: texts, camera, audio, then the frame at the timeline's time."""
        self.timeline.go(index)
        if from_start:
            self.timeline.time_s = 0.0
        step, aud = self.timeline.step, self.choice.narration_audience
        text = story.step_text(step, aud, self.context)
        with self.state:
            self.state.step_index = self.timeline.index
            self.state.step_title = text["title"]
            self.state.sentences = text["sentences"]
            self.state.sources = text["sources"]
            self.state.step_duration = step.duration_s
            self.state.show_labels = step.visible.get("labels", "shown") != "hidden"
            self.state.audio_url = ""
        if self._mode == "story":
            self._request_audio()  # no narration over the practice or the quiz
        self._show_frame_soon(camera=True)

    def _show_frame_soon(self, *, camera: bool = False) -> None:
        """Draw the frame on the next turn of the event loop, so the page gets the new step's
        title and narration first (the 3D and X-ray update follows a moment later)."""
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:  # no server loop (unit tests): draw now
            self._show_frame(camera=camera)
            return
        loop.call_soon(self._guarded_frame, camera)

    def _guarded_frame(self, camera: bool) -> None:
        try:
            self._show_frame(camera=camera)
        except Exception as exc:  # the session must survive a failed frame
            self.show_error(page_message(exc))

    def _show_frame(self, *, camera: bool = False) -> None:
        if self.model is None:
            return
        if self._mode == "practice":
            self.practice.show(camera=camera)
            self.frame_count += 1
            return
        values = self.timeline.values()
        step = self.timeline.step
        frame = self.model.frame(values)
        self.scene3d.apply(frame, self._visible(step), section=Scene3D.is_section(step.camera))
        orbit = float(values.get("camera.orbit_deg", 0.0))
        orbiting = any(a.param == "camera.orbit_deg" for a in step.animate)
        free = bool(self.state.free_camera) and self.choice.audience == "student"
        if (camera or orbiting) and not free:
            self.scene3d.place_camera(step.camera, orbit)
        ml_shown = step.final_value("cement.ml") or 0.0
        cement_visible = step.visible.get("cement", "hidden") != "hidden"
        with self.state:
            self.state.step_time = round(self.timeline.shown_time_s(), 2)
            self.state.playing = self.timeline.playing
            self.state.fluoro = self.fluoro.images(values, step.fluoro, self.choice.narration_audience)
            self.state.show_ml = bool(ml_shown > 0 and cement_visible)
            self.state.cement_ml_text = f"{frame.cement_ml:.1f} mL"
            self.state.readouts = self._readouts(frame, step)
            self.state.legend = self.scene3d.legend()
            self.state.part_anchors = self.scene3d.label_anchors()
        self._last_frame = frame
        self.frame_count += 1
        self.ctrl.view_update()
        if (camera or orbiting) and not free:
            self.ctrl.view_push_camera()

    def _readouts(self, frame: Any, step: Any) -> list[str]:
        """Safety figures for students: needle position and breach, cement leaks."""
        if self.choice.narration_audience != "student":
            return []
        out = []
        safety = frame.safety
        if safety is not None and step.visible.get("needle", "hidden") != "hidden":
            where = ("tip in the vertebral body" if safety.tip_in_body
                     else f"tip {safety.tip_to_target_mm:.0f} mm from the target")
            out.append(f"Needle: {where}")
            if safety.breach:
                out.append(f"Pedicle breach: {safety.breach} wall")
            elif safety.wall_clearance_mm != float("inf"):
                out.append(f"Pedicle wall clearance {safety.wall_clearance_mm:.1f} mm, no breach")
            if safety.medial_line_crossed_early:
                out.append("Warning: tip medial to the pedicle on AP before reaching the body on lateral")
        if frame.cement_ml > 0:
            leaks = [leak for leak in frame.leaks if leak.volume_ml >= 0.01]
            if leaks:
                out.extend(f"Leak ({leak.kind}): {leak.volume_ml:.2f} mL" for leak in leaks)
            else:
                out.append("No cement leak")
        return out

    # ------------------------------------------------------------------ audio

    def _request_audio(self) -> None:
        step, aud, ctx = self.timeline.step, self.choice.narration_audience, self.context
        from vp3d.storyboard import narration_text

        text = narration_text(step, aud, ctx)
        key = (step.id, aud, text)
        path = self._audio_paths.get(key)
        if path is not None:
            self._audio_ready(key, path)
            return
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            loop = None
        future = self._audio_pool.submit(self._make_audio, text, aud)

        def done(fut: concurrent.futures.Future) -> None:
            try:
                p = fut.result()
            except Exception as exc:  # noqa: BLE001 - narration audio is optional
                logger.warning("vp3d: narration audio failed: %s", exc)
                return
            self._audio_paths[key] = p
            if loop is not None:
                loop.call_soon_threadsafe(self._audio_ready, key, p)
            else:
                self._audio_ready(key, p)

        future.add_done_callback(done)

    @staticmethod
    def _make_audio(text: str, audience: str):
        from vp3d.storyboard.speech import narration_wav

        return narration_wav(text, audience)

    def _audio_ready(self, key: tuple, path: Any) -> None:
        step = self.timeline.step
        if key[0] != step.id or key[1] != self.choice.narration_audience:
            return  # the story moved on
        from vp3d.storyboard.speech import wav_duration_s

        self.timeline.narration_s = wav_duration_s(path)
        with self.state:
            self.state.audio_url = audio.url_for(path)

    # ------------------------------------------------------------------ playing

    async def _play_loop(self) -> None:
        last = time.monotonic()
        while True:
            await asyncio.sleep(self.tick_s)
            now = time.monotonic()
            dt, last = now - last, now
            try:
                self._tick(dt, now)
            except Exception as exc:  # noqa: BLE001 - keep playing after a bad frame
                logger.exception("vp3d: frame failed")
                self.show_error(page_message(exc))
                self.timeline.playing = False

    def _tick(self, dt: float, now: float) -> None:
        if self.model is None or self.state.building:
            return
        if self.kiosk and self._touched and now - self._last_activity > self.idle_s:
            self._touched = False
            if self.timeline.index != 0 or not self.timeline.playing:
                self.timeline.playing = True
                self._enter_step(0, from_start=True)
                return
        if not self.timeline.playing:
            return
        before = self.timeline.time_s
        if self.timeline.tick(dt):
            self._enter_step(self.timeline.index, from_start=True)
        elif self.timeline.time_s <= self.timeline.duration_s or before < self.timeline.duration_s:
            self._show_frame()
        elif not self.timeline.playing:
            with self.state:
                self.state.playing = False

    def _activity(self) -> None:
        self._last_activity = time.monotonic()
        self._touched = True

    # ------------------------------------------------------------------ handlers

    @trigger("next_step")
    @_session_boundary
    def next_step(self) -> None:
        self._activity()
        if self._mode != "story":
            return  # the story's keys do nothing while practising or answering the quiz
        if self.model is None:
            return
        if self.timeline.index + 1 < len(self.timeline.scene.steps) or self.timeline.loop:
            self.timeline.next()
            self._enter_step(self.timeline.index)

    @trigger("previous_step")
    @_session_boundary
    def previous_step(self) -> None:
        self._activity()
        if self._mode != "story":
            return  # the story's keys do nothing while practising or answering the quiz
        if self.model is None or self.timeline.index == 0:
            return
        self._enter_step(self.timeline.index - 1)

    @trigger("go_step")
    @_session_boundary
    def go_step(self, index: Any) -> None:
        self._activity()
        if self.model is None:
            return
        n = len(self.timeline.scene.steps)
        if isinstance(index, bool) or not isinstance(index, (int, float)) or index != index \
                or int(index) != index or not 0 <= int(index) < n:
            raise ValueError(f"step index must be a whole number from 0 to {n - 1}, got {story.shown(index)}")
        self._enter_step(int(index))

    @trigger("toggle_play")
    @_session_boundary
    def toggle_play(self) -> None:
        self._activity()
        if self._mode != "story":
            return  # the story's keys do nothing while practising or answering the quiz
        self.set_playing(not self.timeline.playing)

    def set_playing(self, playing: bool) -> None:
        at_end = self.timeline.time_s >= self.timeline.dwell_s - 1e-9
        self.timeline.set_playing(bool(playing))
        if playing and at_end and self.timeline.duration_s == 0:
            self.timeline.next()
            self._enter_step(self.timeline.index, from_start=True)
            return
        with self.state:
            self.state.playing = self.timeline.playing
        if self.model is not None:
            self._show_frame()

    @trigger("seek")
    @_session_boundary
    def seek(self, time_s: Any) -> None:
        self._activity()
        self.timeline.seek(story.page_number("time within the step", time_s))
        self._show_frame()

    @trigger("save_picture")
    @_session_boundary
    def save_picture(self) -> dict:
        """The current 3D view as a captioned PNG data URL and a file name for the download."""
        import base64

        try:
            caption = f"{self.state.level_label} \u00b7 {self.state.step_title}".strip(" \u00b7")
            png = self.scene3d.picture_png(caption or "vp3d")
        except Exception as error:  # a failed render must not end the session
            self.show_error(f"Could not save the picture: {error}")
            return {}
        name = f"vp3d-{self.choice.level}-step{self.state.step_index + 1}.png"
        return {"url": "data:image/png;base64," + base64.b64encode(png).decode(), "name": name}

    @trigger("camera_preset")
    @_session_boundary
    def camera_preset(self, name: Any) -> None:
        """Look from one of the named directions (the camera stays free afterwards)."""
        from vp3d.storyboard import Camera

        self._activity()
        if not isinstance(name, str) or name not in VIEW_PRESETS:
            raise ValueError(f"view must be one of {', '.join(VIEW_PRESETS)}, got {story.shown(name)}")
        if self.model is None:
            return
        self.scene3d.place_camera(Camera(preset=name))
        self.ctrl.view_update()
        self.ctrl.view_push_camera()

    @trigger("activity")
    @_session_boundary
    def activity(self) -> None:
        self._activity()

    @trigger("url_params")
    @_session_boundary
    def apply_url(self, query: Any) -> None:
        """Apply ``?level=&grade=&kind=&procedure=&audience=&step=`` from the page's URL."""
        request = story.parse_query(query if isinstance(query, (str, dict)) else "",
                                    self.default_choice)
        if not isinstance(query, (str, dict)):
            request.messages.append(f"Link: ignored parameters of type {type(query).__name__}.")
        choice = request.choice
        mode = request.mode
        if self.kiosk:
            choice = ViewChoice(choice.level, choice.grade, choice.kind, choice.procedure, "kiosk")
            if mode != "story":
                request.messages.append(f"Link: the kiosk plays the story; the {mode} is for students.")
                mode = "story"
        with self.state:
            self.state.notices = list(request.messages)
            self.state.applied_query = query if isinstance(query, str) else ""
            self.state.mode = mode
            s = self.state
            s.level, s.grade, s.kind, s.procedure, s.audience = (
                choice.level, choice.grade, choice.kind, choice.procedure, choice.audience)
        if request.step is not None:
            if self.model is not None and choice.engine_key() == self.model_key:
                index, message = story.resolve_step(story.scene_for(choice.procedure), request.step)
                if message:
                    self._add_notice(message)
                self.choice = choice
                self.timeline.scene = story.scene_for(choice.procedure)
                self._refresh_texts()
                self._enter_step(index)
                return
            self._pending_step = request.step
        if choice != self.choice or self.model is None:
            if self.model is None and self.state.building and choice.engine_key() == self.choice.engine_key():
                self.choice = choice
                return  # the first build is already under way for this choice
            self._request_choice(choice)

    @change("mode")
    @_session_boundary
    def _on_mode(self, **_: Any) -> None:
        """Story, practice or quiz; the last two are for the student audience."""
        wanted = self.state.mode
        if wanted == self._mode:
            return
        if not isinstance(wanted, str) or wanted not in PAGE_MODES:
            with self.state:
                self.state.mode = self._mode
            raise ValueError(f"mode must be one of {', '.join(PAGE_MODES)}, got {story.shown(wanted)}")
        if self.kiosk:
            with self.state:
                self.state.mode = self._mode
            raise ValueError(f"the kiosk plays the story; the {wanted} is for students")
        if wanted != "story" and self.choice.audience != "student" and self.state.audience != "student":
            with self.state:
                self.state.mode = self._mode
            raise ValueError(f"the {wanted} is for the student audience: choose Student first")
        self._set_mode(wanted)

    def _set_mode(self, mode: str) -> None:
        self._mode = mode
        self._activity()
        if mode != "story" and self.timeline.playing:
            self.timeline.playing = False
        with self.state:
            self.state.mode = mode
            self.state.playing = self.timeline.playing
            if mode != "story":
                self.state.audio_url = ""  # the story's narration stops
        if mode == "practice":
            self.practice.enter()
        else:
            self.practice.leave()
        if self.model is not None and mode == "story":
            self._enter_step(self.timeline.index)  # the step's camera and narration again
        elif self.model is not None and mode == "practice":
            self._show_frame_soon(camera=True)

    def _add_notice(self, message: str) -> None:
        with self.state:
            self.state.notices = [*self.state.notices, message]

    @change("level", "grade", "kind", "procedure", "audience")
    @_session_boundary
    def _on_choice(self, **_: Any) -> None:
        s = self.state
        if self.kiosk and s.audience != "kiosk":
            wrong = s.audience
            with self.state:
                s.audience = "kiosk"
            raise ValueError(f"the kiosk's audience is fixed (kiosk), got {story.shown(wrong)}")
        try:
            wanted = ViewChoice(
                story.check_choice("level", s.level), story.check_choice("grade", s.grade),
                story.check_choice("kind", s.kind), story.check_choice("procedure", s.procedure),
                "kiosk" if self.kiosk else story.check_choice("audience", s.audience))
        except ValueError:
            with self.state:
                self._revert_choice_state()
            raise
        if wanted.audience != "student" and self._mode != "story":
            self._set_mode("story")
        if wanted.audience != "student" and self.state.part_labels:
            with self.state:
                self.state.part_labels = False
        if wanted == self.choice and self.model is not None:
            return
        self._activity()
        if self.state.building and wanted.engine_key() == self.choice.engine_key():
            self.choice = wanted  # that model is already being built
            return
        self._request_choice(wanted)

    def _visible(self, step: Any) -> dict:
        """The step's visibility, with the body around the spine made faint when a student asks."""
        visible = dict(step.visible)
        if self.state.show_body is True and self.choice.audience == "student":
            for group in BODY_GROUPS:
                if visible.get(group, "hidden") == "hidden":
                    visible[group] = "translucent"
        return visible

    @change("show_body")
    @_session_boundary
    def _on_show_body(self, **_: Any) -> None:
        """Students: show the ribs, lungs, vessels and organs faintly around the spine."""
        wanted = self.state.show_body
        if not isinstance(wanted, bool):
            with self.state:
                self.state.show_body = False
            raise ValueError(f"the body around the spine must be on or off (true or false), got {story.shown(wanted)}")
        if self.model is not None and self._mode == "story":
            self._show_frame()

    @change("part_labels")
    @_session_boundary
    def _on_part_labels(self, **_: Any) -> None:
        """Anatomy labels (students): colour the level's parts and pin their names."""
        wanted = self.state.part_labels
        if not isinstance(wanted, bool):
            with self.state:
                self.state.part_labels = bool(self.scene3d.labels_on)
            raise ValueError(f"anatomy labels must be on or off (true or false), got {story.shown(wanted)}")
        if wanted and self.choice.audience != "student":
            with self.state:
                self.state.part_labels = False
            raise ValueError("anatomy labels are for the student audience: choose Student first")
        if self.model is None:
            self.scene3d.labels_on = wanted  # load() applies it to the new scene
            return
        self.scene3d.set_part_labels(wanted)
        with self.state:
            self.state.legend = self.scene3d.legend()
            self.state.part_anchors = self.scene3d.label_anchors()
        self.ctrl.view_update()

    @change("step_index", "step_count", "playing")
    def _on_owned_state(self, **_: Any) -> None:
        """These keys are the app's to set: a page that writes them gets them put back."""
        truth = {"step_index": self.timeline.index, "step_count": len(self.timeline.scene.steps),
                 "playing": self.timeline.playing}
        if self.state.step_count == 0 and self.model is None:
            truth["step_count"] = 0  # nothing shown yet
        wrong = {k: v for k, v in truth.items() if self.state[k] != v or type(self.state[k]) is not type(v)}
        if not wrong:
            return
        with self.state:
            for key, value in wrong.items():
                self.state[key] = value
            self.state.error_message = (
                f"{', '.join(sorted(wrong))} is set by the app, not the page: use the step and "
                "play buttons (put back).")

    def picture_name(self) -> str:
        return f"vp3d-{self.choice.level}-{self.timeline.step.id}.png"


__all__ = ["AUDIENCE_MODES", "TITLE", "VertebroplastyApp", "describe_level"]
