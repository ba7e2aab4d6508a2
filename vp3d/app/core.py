"""State and controller of the vp3d story page (layout in :mod:`vp3d.app.ui`).

One :class:`VertebroplastyApp` owns one trame server's state and wires its parts: the
clinician's choices and the engine model built for them (:class:`vp3d.procedure.case.ProcedureModel`,
built in a worker thread with progress shown, here), the story on the page
(:class:`vp3d.app.story_player.StoryPlayer`: timeline, 3D scene, fluoroscopy, narration), the
practice (:mod:`vp3d.app.practice_panel`) and the quiz (:mod:`vp3d.app.quiz_panel`), each given a
narrow :class:`vp3d.app.boundary.PanelHost`, and the layout (:mod:`vp3d.app.ui`). Nothing is kept
at module level, so several apps can live in one process, each on its own server.

Every page call passes :func:`vp3d.app.boundary.guarded`: a refused value or a failure becomes a
message in ``state.error_message`` and the session keeps running.
"""

from __future__ import annotations

import asyncio
import functools
import logging
from collections.abc import Callable
from typing import Any

from trame.app import TrameApp
from trame.decorators import change, trigger

from dataclasses import replace

from vp3d.app import audio, page_text, story, take_home
from vp3d.app.boundary import PanelHost, boundary_method, keep_owned, page_message
from vp3d.app.fluoro_panel import FluoroPanel
from vp3d.app.practice_panel import PracticePanel
from vp3d.app.quiz_panel import QuizPanel
from vp3d.app.scene3d import Scene3D
from vp3d.app.story import AUDIENCE_MODES, PAGE_MODES, ViewChoice
from vp3d.app.story_player import StoryPlayer
from vp3d.i18n import gettext_for

logger = logging.getLogger(__name__)

TITLE = page_text.PAGE_TEXT["app_title"]
FLUORO_ROWS = 256  # small images: a few kB each as JPEG
KIOSK_IDLE_S = 120.0
TICK_S = 0.25

#: Camera presets a student may jump to ("View from"), with their names on the page.
VIEW_PRESETS = page_text.VIEW_TITLES
#: State keys only the app sets (the page shows them).
OWNED = ("step_index", "step_count", "playing")


def _default_model_factory(choices, progress=None):
    from vp3d.procedure.case import ProcedureModel

    return ProcedureModel(choices, progress=progress, rows=FLUORO_ROWS)


class VertebroplastyApp(TrameApp):
    """The vp3d story page for one trame server.

    Parameters
    ----------
    server : trame server or str or None
        Server (or its name) to attach to; ``None`` uses trame's default server.
    level, grade, kind, procedure, audience : initial choices (checked; bad ones raise).
    lang : str
        The page's language for a new session (``en`` or ``es``; ``?lang=`` and the language
        menu change it per session). Patients and the kiosk get the story in it; students'
        clinical narration stays English.
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
        lang: str = "en",
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
                    ("audience", "kiosk" if kiosk else audience), ("lang", lang))}
        self.default_choice = ViewChoice(**checked)
        self.choice = self.default_choice
        self.kiosk = bool(kiosk)
        self._factory = _default_model_factory if model_factory is None else model_factory
        self.model: Any = None
        self.model_key: tuple | None = None
        self.scene3d = Scene3D()
        self.renderer, self.render_window = self.scene3d.renderer, self.scene3d.render_window
        self._generation = 0
        self._pending_step: str | int | None = None
        self._mode = "story"
        self.host = PanelHost(self.server, self.show_error, self._activity, lambda: self._mode)
        timeline = story.Timeline(story.scene_of(self.choice), loop=self.kiosk,
                                  speed=play_speed)
        timeline.playing = self.kiosk
        self.player = StoryPlayer(self.host, self.scene3d, timeline, kiosk=self.kiosk,
                                  idle_s=float(idle_s), tick_s=float(tick_s),
                                  draw_practice=lambda camera: self.practice.show(camera=camera))
        self.timeline = timeline

        self._init_state()
        self.practice = PracticePanel(self.host, self.scene3d)
        self.quiz = QuizPanel(self.host)
        keep_owned(self.state, OWNED, self._owned_truth, self.show_error,
                   "the app (use the step and play buttons)")
        self._build_ui()
        self.server.controller.on_server_bind.add(self._bind_routes)
        self.server.controller.on_server_ready.add(self._on_ready)
        if build_now:
            self.build_sync(self.choice)

    # ------------------------------------------------------------------ state

    def _init_state(self) -> None:
        s, c = self.state, self.choice
        s.kiosk = self.kiosk
        s.level, s.grade, s.kind, s.procedure, s.audience = c.level, c.grade, c.kind, c.procedure, c.audience
        self._language_state(c.lang)
        s.building, s.build_progress = True, 0
        _ = gettext_for(c.lang)
        s.build_message = _("Preparing the model")
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
        s.choices_open = False  # phones: the choices folded into a menu until opened
        s.reduced_motion = False  # the browser asks for less motion (prefers-reduced-motion)
        s.show_body = False  # students: ribs, lungs, vessels and organs shown faint around the spine

    def _language_state(self, lang: str) -> None:
        """The page's words in ``lang``: ``state.t`` (labels), the menus' options, the title."""
        s = self.state
        s.lang = lang
        s.t = page_text.page_strings(lang)
        s.trame__title = s.app_title = s.t["app_title"]
        s.trame__template_error = page_text.CONNECTION_LOST
        for key, items in page_text.choice_options(lang, story.story_levels()).items():
            s[key] = items

    def _owned_truth(self) -> dict[str, Any]:
        count = len(self.timeline.scene.steps)
        if self.state.step_count == 0 and self.model is None:
            count = 0  # nothing shown yet
        return {"step_index": self.timeline.index, "step_count": count,
                "playing": self.timeline.playing}

    def _build_ui(self) -> None:
        from vp3d.app import ui

        self.ui = ui.build_ui(self)

    @property
    def lang(self) -> str:
        """The session's page language (``en``, ``es``); ``state.lang`` on the page. The story's
        own language is ``self.choice.narration_lang`` (students hear English)."""
        return self.choice.lang

    def show_error(self, message: str) -> None:
        """Show ``message`` on the page (the session keeps running)."""
        with self.state:
            self.state.error_message = message

    def _bind_routes(self, wslink_server: Any) -> None:
        if getattr(wslink_server, "app", None) is not None:  # per-session apps have no web app:
            audio.add_route(wslink_server.app)  # vp3d.app.sessions serves the route for them
            take_home.add_route(wslink_server.app)

    def _on_ready(self, **_: Any) -> None:
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            # trame may announce readiness before its loop runs: the tasks start with it.
            loop = asyncio.get_event_loop()
        if self.model is None:
            loop.create_task(self._build_async(self.choice))
        self.player.start(loop)

    def close(self) -> None:
        """Release what this session holds once its browser has gone: the play loop and the
        quiz's image task, the narration worker, the offscreen render window and the models.

        Idempotent; the shared engine models stay in :class:`vp3d.app.sessions.SharedModels`.
        """
        self.player.close()
        self.quiz.close()
        self.scene3d.close()
        self.model = None
        self.practice.close()

    # ------------------------------------------------------------------ model

    def build_sync(self, choice: ViewChoice) -> None:
        """Build the engine model for ``choice`` here and now (tests, scripts)."""
        self._install_model(choice, self._factory(self._choices(choice)))

    @staticmethod
    def _choices(choice: ViewChoice):
        from vp3d.procedure.case import Choices

        return Choices(choice.level, choice.grade, choice.kind, choice.procedure)

    async def _build_async(self, choice: ViewChoice) -> None:
        self._generation += 1
        generation = self._generation
        loop = asyncio.get_running_loop()
        with self.state:
            self.state.building, self.state.build_progress = True, 0
            _ = gettext_for(choice.lang)
            self.state.build_message = _("Preparing %(level)s, %(procedure)s") % {
                "level": choice.level, "procedure": _(page_text.PROCEDURE_TITLES[choice.procedure])}

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
        # the audience and language may have moved on while the model was built
        choice = replace(choice, audience=self.choice.audience, lang=self.choice.lang)
        level_centre = model.spine.vertebrae[choice.level].transform[:3, 3]
        self.scene3d.load(model.parts, choice.level, level_centre)
        self.model, self.model_key = model, choice.engine_key()
        self.choice = choice
        self.player.show_model(model, FluoroPanel(model), choice)
        keep_index = self.timeline.index if self.timeline.scene.name == choice.procedure else 0
        self.timeline.scene = story.scene_of(choice)
        index = keep_index
        if self._pending_step is not None:
            index, message = story.resolve_step(self.timeline.scene, self._pending_step, choice.lang)
            self._pending_step = None
            if message:
                self._add_notice(message)
        with self.state:
            self.state.building, self.state.build_progress = False, 100
            self.state.scene_ready = True
            self._language_state(choice.lang)
        self.player.refresh_texts()
        self.practice.on_model(model)
        self.player.enter_step(min(index, len(self.timeline.scene.steps) - 1))

    def _show_choice(self, choice: ViewChoice) -> None:
        """``choice`` on the current model (same engine key): its texts and the step again."""
        old = self.choice
        self.choice = choice
        self.player.choice = choice
        if story.scene_of(choice) is not self.timeline.scene:  # same steps, other words or procedure
            self.timeline.scene = story.scene_of(choice)
        if choice.lang != old.lang:
            with self.state:
                self._language_state(choice.lang)
        self.player.refresh_texts()

    def _request_choice(self, choice: ViewChoice) -> None:
        """Show ``choice``: new narration at once; a new model (in the background) if needed."""
        if choice.engine_key() == self.model_key and self.model is not None:
            self._show_choice(choice)
            self.player.enter_step(self.timeline.index)
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
        if self.model is not None:
            level, grade, kind, procedure = self.model_key
            self.choice = ViewChoice(level, grade, kind, procedure, self.choice.audience, self.choice.lang)
        c = self.choice
        s = self.state
        s.level, s.grade, s.kind, s.procedure, s.audience = c.level, c.grade, c.kind, c.procedure, c.audience
        s.lang = c.lang

    def _add_notice(self, message: str) -> None:
        with self.state:
            self.state.notices = [*self.state.notices, message]

    def _activity(self) -> None:
        self.player.activity()

    # ------------------------------------------------------------------ page calls

    @trigger("next_step")
    @boundary_method
    def next_step(self) -> None:
        self._activity()
        if self._mode == "story" and self.model is not None:  # the story's keys do nothing
            self.player.next()  # while practising or answering the quiz

    @trigger("previous_step")
    @boundary_method
    def previous_step(self) -> None:
        self._activity()
        if self._mode == "story" and self.model is not None:
            self.player.previous()

    @trigger("go_step")
    @boundary_method
    def go_step(self, index: Any) -> None:
        self._activity()
        if self.model is not None:
            self.player.go(index)

    @trigger("toggle_play")
    @boundary_method
    def toggle_play(self) -> None:
        self._activity()
        if self._mode == "story":
            self.player.set_playing(not self.timeline.playing)

    @trigger("seek")
    @boundary_method
    def seek(self, time_s: Any) -> None:
        self._activity()
        self.player.seek(time_s)

    @trigger("save_picture")
    @boundary_method
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
    @boundary_method
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
    @boundary_method
    def activity(self) -> None:
        self._activity()

    @trigger("start_again")
    @boundary_method
    def start_again(self) -> None:
        """The story from its first step, playing (the kiosk's "Start again" button)."""
        self._activity()
        if self._mode == "story" and self.model is not None:
            self.player.start_again()

    @trigger("motion_preference")
    @boundary_method
    def motion_preference(self, reduce: Any) -> None:
        """The browser's reduced-motion setting: when set, the camera does not orbit."""
        if not isinstance(reduce, bool):
            raise ValueError(f"reduced motion must be true or false, got {story.shown(reduce)}")
        self.player.reduced_motion = reduce
        with self.state:
            self.state.reduced_motion = reduce
        if self.model is not None and self._mode == "story":
            self.player.show_frame(camera=reduce)

    @trigger("url_params")
    @boundary_method
    def apply_url(self, query: Any) -> None:
        """Apply ``?level=&grade=&kind=&procedure=&audience=&step=`` from the page's URL."""
        request = story.parse_query(query if isinstance(query, (str, dict)) else "",
                                    self.default_choice)
        if not isinstance(query, (str, dict)):
            request.messages.append(f"Link: ignored parameters of type {type(query).__name__}.")
        choice = request.choice
        mode = request.mode
        if self.kiosk:
            choice = replace(choice, audience="kiosk")
            if mode != "story":
                _ = gettext_for(choice.lang)
                request.messages.append(_("Link: the kiosk plays the story; the %(mode)s is for "
                                          "students.") % {"mode": mode})
                mode = "story"
        with self.state:
            self.state.notices = list(request.messages)
            self.state.applied_query = query if isinstance(query, str) else ""
            self.state.mode = mode
            s = self.state
            s.level, s.grade, s.kind, s.procedure, s.audience = (
                choice.level, choice.grade, choice.kind, choice.procedure, choice.audience)
            self._language_state(choice.lang)
        if request.step is not None:
            if self.model is not None and choice.engine_key() == self.model_key:
                index, message = story.resolve_step(story.scene_of(choice), request.step, choice.lang)
                if message:
                    self._add_notice(message)
                self._show_choice(choice)
                self.player.enter_step(index)
                return
            self._pending_step = request.step
        if choice != self.choice or self.model is None:
            if self.model is None and self.state.building and choice.engine_key() == self.choice.engine_key():
                self.choice = choice
                return  # the first build is already under way for this choice
            self._request_choice(choice)

    # ------------------------------------------------------------------ state the page sets

    @change("mode")
    @boundary_method
    def _on_mode(self, **_: Any) -> None:
        """Story, practice or quiz; the last two are for the student audience."""
        wanted = self.state.mode
        if wanted == self._mode:
            return
        refusal = None
        if not isinstance(wanted, str) or wanted not in PAGE_MODES:
            refusal = f"mode must be one of {', '.join(PAGE_MODES)}, got {story.shown(wanted)}"
        elif self.kiosk:
            refusal = f"the kiosk plays the story; the {wanted} is for students"
        elif wanted != "story" and self.choice.audience != "student" and self.state.audience != "student":
            refusal = f"the {wanted} is for the student audience: choose Student first"
        if refusal:
            with self.state:
                self.state.mode = self._mode
            raise ValueError(refusal)
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
            self.practice.enter(self.model)
        else:
            self.practice.leave()
        if mode == "quiz":
            self.quiz.open()
        if self.model is not None and mode == "story":
            self.player.enter_step(self.timeline.index)  # the step's camera and narration again
        elif self.model is not None and mode == "practice":
            self.player.show_frame_soon(camera=True)

    @change("level", "grade", "kind", "procedure", "audience", "lang")
    @boundary_method
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
                "kiosk" if self.kiosk else story.check_choice("audience", s.audience),
                story.check_choice("lang", s.lang))
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

    @change("show_body")
    @boundary_method
    def _on_show_body(self, **_: Any) -> None:
        """Students: show the ribs, lungs, vessels and organs faintly around the spine."""
        wanted = self.state.show_body
        if not isinstance(wanted, bool):
            with self.state:
                self.state.show_body = False
            raise ValueError(f"the body around the spine must be on or off (true or false), got {story.shown(wanted)}")
        if self.model is not None and self._mode == "story":
            self.player.show_frame()

    @change("part_labels")
    @boundary_method
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


__all__ = ["AUDIENCE_MODES", "TITLE", "VertebroplastyApp"]
