"""The story as the page plays it: the timeline's current step shown as texts, narration,
the 3D frame and the fluoroscopy pair; the play loop and the kiosk's return to the start.

The player draws what it is given (:meth:`StoryPlayer.show_model`) and knows nothing of how
models are built or choices made (:mod:`vp3d.app.core`).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from typing import Any

from vp3d.app import page_text, story
from vp3d.app.boundary import PanelHost, page_message
from vp3d.app.narration_player import NarrationPlayer
from vp3d.app.scene3d import Scene3D
from vp3d.app.story import ViewChoice

logger = logging.getLogger(__name__)

#: Storyboard groups of the body around the spine (vp3d.anatomy.trunk).
BODY_GROUPS = ("ribs", "lungs", "vessels", "organs")


class StoryPlayer:
    """One session's story timeline on the page.

    ``draw_practice(camera)`` draws the frame while the page is in practice mode.
    """

    def __init__(self, host: PanelHost, scene3d: Scene3D, timeline: story.Timeline, *,
                 kiosk: bool, idle_s: float, tick_s: float,
                 draw_practice: Callable[[bool], None]) -> None:
        self.host = host
        self.state = host.state
        self.scene3d = scene3d
        self.timeline = timeline
        self.kiosk = kiosk
        self.idle_s = idle_s
        self.tick_s = tick_s
        self._draw_practice = draw_practice
        self.model: Any = None
        self.fluoro: Any = None
        self.choice: ViewChoice | None = None
        self._last_activity = time.monotonic()
        self._touched = False  # kiosk: someone used the page since it last started over
        self._task: asyncio.Task | None = None
        self.reduced_motion = False  # the viewer asked for less motion: no orbiting camera
        self.narration = NarrationPlayer(self._now_shown, self._narration_ready)

    # ------------------------------------------------------------------ what is shown

    def show_model(self, model: Any, fluoro: Any, choice: ViewChoice) -> None:
        self.model, self.fluoro, self.choice = model, fluoro, choice

    @property
    def context(self) -> dict[str, str]:
        return story.context_for(self.choice)

    def refresh_texts(self) -> None:
        """The scene's title and step list for the current choice."""
        scene, aud = self.timeline.scene, self.choice.narration_audience
        with self.state:
            self.state.scene_title = scene.title[aud]
            self.state.steps = story.step_list(scene, aud, self.context)
            self.state.step_count = len(scene.steps)
            self.state.level_label = page_text.level_label(self.choice.level, self.choice.lang)

    def enter_step(self, index: int, *, from_start: bool = False) -> None:
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
        if self.host.mode() == "story":
            # no narration over practice or quiz; students hear English (their narration is)
            self.narration.request(step, aud, self.context, lang=self.choice.narration_lang)
        self.show_frame_soon(camera=True)

    def _now_shown(self) -> tuple[str, str, str]:
        return self.timeline.step.id, self.choice.narration_audience, self.choice.narration_lang

    def _narration_ready(self, url: str, duration_s: float) -> None:
        self.timeline.narration_s = duration_s
        with self.state:
            self.state.audio_url = url

    def show_frame_soon(self, *, camera: bool = False) -> None:
        """Draw the frame on the next turn of the event loop, so the page gets the new step's
        title and narration first (the 3D and X-ray update follows a moment later)."""
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:  # no server loop (unit tests): draw now
            self.show_frame(camera=camera)
            return
        loop.call_soon(self._frame_or_message, camera)

    def _frame_or_message(self, camera: bool) -> None:
        try:
            self.show_frame(camera=camera)
        except Exception as exc:  # noqa: BLE001 - the session must survive a failed frame
            logger.exception("vp3d: frame failed")
            self.host.show_error(page_message(exc))

    def show_frame(self, *, camera: bool = False) -> None:
        """Draw the current moment: the story's frame, or the practice's in practice mode."""
        if self.model is None:
            return
        if self.host.mode() == "practice":
            self._draw_practice(camera)
            return
        values = self.timeline.values()
        step = self.timeline.step
        frame = self.model.frame(values)
        self.scene3d.apply(frame, self.visible(step), section=Scene3D.is_section(step.camera))
        orbit = 0.0 if self.reduced_motion else float(values.get("camera.orbit_deg", 0.0))
        orbiting = not self.reduced_motion and any(a.param == "camera.orbit_deg" for a in step.animate)
        free = bool(self.state.free_camera) and self.choice.audience == "student"
        move_camera = (camera or orbiting) and not free
        if move_camera:
            self.scene3d.place_camera(step.camera, orbit)
        ml_shown = step.final_value("cement.ml") or 0.0
        cement_visible = step.visible.get("cement", "hidden") != "hidden"
        with self.state:
            self.state.step_time = round(self.timeline.shown_time_s(), 2)
            self.state.playing = self.timeline.playing
            self.state.fluoro = self.fluoro.images(values, step.fluoro, self.choice.narration_audience,
                                                    self.choice.lang)
            self.state.show_ml = bool(ml_shown > 0 and cement_visible)
            self.state.cement_ml_text = f"{page_text.decimal(frame.cement_ml, self.choice.lang)} mL"
            self.state.readouts = readouts(frame, step, self.choice.narration_audience)
            self.state.legend = self.scene3d.legend()
            self.state.part_anchors = self.scene3d.label_anchors()
        self.host.ctrl.view_update()
        if move_camera:
            self.host.ctrl.view_push_camera()

    def visible(self, step: Any) -> dict:
        """The step's visibility, with the body around the spine made faint when a student asks."""
        visible = dict(step.visible)
        if self.state.show_body is True and self.choice.audience == "student":
            for group in BODY_GROUPS:
                if visible.get(group, "hidden") == "hidden":
                    visible[group] = "translucent"
        return visible

    # ------------------------------------------------------------------ moving through the story

    def next(self) -> None:
        if self.timeline.index + 1 < len(self.timeline.scene.steps) or self.timeline.loop:
            self.timeline.next()
            self.enter_step(self.timeline.index)

    def previous(self) -> None:
        if self.timeline.index > 0:
            self.enter_step(self.timeline.index - 1)

    def go(self, index: Any) -> None:
        n = len(self.timeline.scene.steps)
        if isinstance(index, bool) or not isinstance(index, (int, float)) or index != index \
                or int(index) != index or not 0 <= int(index) < n:
            raise ValueError(f"step index must be a whole number from 0 to {n - 1}, got {story.shown(index)}")
        self.enter_step(int(index))

    def start_again(self) -> None:
        """Back to the first step, playing (the kiosk's "Start again")."""
        self.timeline.set_playing(True)
        self.enter_step(0, from_start=True)
        with self.state:
            self.state.playing = self.timeline.playing

    def set_playing(self, playing: bool) -> None:
        at_end = self.timeline.time_s >= self.timeline.dwell_s - 1e-9
        self.timeline.set_playing(bool(playing))
        if playing and at_end and self.timeline.duration_s == 0:
            self.timeline.next()
            self.enter_step(self.timeline.index, from_start=True)
            return
        with self.state:
            self.state.playing = self.timeline.playing
        self.show_frame()

    def seek(self, time_s: Any) -> None:
        self.timeline.seek(story.page_number("time within the step", time_s))
        self.show_frame()

    # ------------------------------------------------------------------ the play loop

    def activity(self) -> None:
        """Someone used the page (the kiosk waits ``idle_s`` after the last use)."""
        self._last_activity = time.monotonic()
        self._touched = True

    def start(self, loop: asyncio.AbstractEventLoop) -> None:
        if self._task is None:
            self._task = loop.create_task(self._play_loop())

    async def _play_loop(self) -> None:
        last = time.monotonic()
        while True:
            await asyncio.sleep(self.tick_s)
            now = time.monotonic()
            dt, last = now - last, now
            try:
                self.tick(dt, now)
            except Exception as exc:  # noqa: BLE001 - keep playing after a bad frame
                logger.exception("vp3d: frame failed")
                self.host.show_error(page_message(exc))
                self.timeline.playing = False

    def tick(self, dt: float, now: float) -> None:
        """Advance the story clock by ``dt`` seconds; the kiosk starts over when left alone."""
        if self.model is None or self.state.building:
            return
        if self.kiosk and self._touched and now - self._last_activity > self.idle_s:
            self._touched = False
            if self.timeline.index != 0 or not self.timeline.playing:
                self.timeline.playing = True
                self.enter_step(0, from_start=True)
                return
        if not self.timeline.playing:
            return
        before = self.timeline.time_s
        if self.timeline.tick(dt):
            self.enter_step(self.timeline.index, from_start=True)
        elif self.timeline.time_s <= self.timeline.duration_s or before < self.timeline.duration_s:
            self.show_frame()
        elif not self.timeline.playing:
            with self.state:
                self.state.playing = False

    def close(self) -> None:
        """Stop the play loop and the narration worker (session end)."""
        if self._task is not None and not self._task.done():
            self._task.cancel()
        self._task = None
        self.narration.close()
        self.model = self.fluoro = None


def readouts(frame: Any, step: Any, audience: str) -> list[str]:
    """Safety figures for students: needle position and breach, cement leaks."""
    if audience != "student":
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
