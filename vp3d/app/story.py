"""Story logic of the page, without any UI: choices, URL parameters, steps and the timeline.

Everything here is plain Python over the storyboard (:mod:`vp3d.storyboard`) so it is tested
without a server or a browser. :mod:`vp3d.app.core` holds one :class:`Timeline` per session and
turns its values into engine frames; :mod:`vp3d.app.ui` only lays out what this module computes.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace
from typing import Any, Mapping
from urllib.parse import parse_qs

from vp3d.checks import (
    AUDIENCE_MODES,
    GRADES,
    KINDS,
    PROCEDURES,
    check_audience,
    check_grade,
    check_kind,
    check_lang,
    check_procedure,
    check_procedure_level,
    shown,
)
from vp3d.i18n import DEFAULT_LANGUAGE, LANGUAGES, gettext_for
from vp3d.levels import PROCEDURE_LEVELS
from vp3d.storyboard import (
    SOURCES,
    Scene,
    Step,
    audience_of,
    load_named_scene,
    narration_context,
    render_narration,
    render_title,
)

__all__ = [
    "AUDIENCE_MODES", "GRADES", "HOLD_AFTER_S", "KIND_NAMES", "PAGE_MODES", "PROCEDURE_NAMES",
    "URL_PARAMETERS", "Timeline", "UrlRequest", "ViewChoice", "check_choice", "context_for",
    "load_all_scenes", "page_number", "parse_query", "resolve_step", "scene_for", "scene_of", "shown",
    "source_label", "step_list", "step_text", "story_levels",
]

#: What the page is doing: watching the story, practising the needle and cement, or the quiz.
#: Practice and quiz are for the student audience.
PAGE_MODES = ("story", "practice", "quiz")
PROCEDURE_NAMES = PROCEDURES  # the choices' lists (vp3d.checks): one source of truth
KIND_NAMES = KINDS
#: Seconds a still step (or a step's end) stays on screen while playing, after its narration.
HOLD_AFTER_S = 1.5


def story_levels() -> list[str]:
    """The levels a clinician may choose (:data:`vp3d.levels.PROCEDURE_LEVELS`)."""
    return list(PROCEDURE_LEVELS)


@dataclass(frozen=True)
class ViewChoice:
    """What the page shows: the clinician's choices and the audience."""

    level: str = "L1"
    grade: int = 2
    kind: str = "wedge"
    procedure: str = "vertebroplasty"
    audience: str = "patient"
    lang: str = DEFAULT_LANGUAGE  # the page's language; a separate choice from the audience

    @property
    def narration_audience(self) -> str:
        return audience_of(self.audience)

    @property
    def narration_lang(self) -> str:
        """The story's language: the chosen one for patients and the kiosk; students' clinical
        narration is English only."""
        return self.lang if self.narration_audience == "patient" else DEFAULT_LANGUAGE

    def engine_key(self) -> tuple:
        """The part of the choice that needs a new engine model when it changes."""
        return (self.level, self.grade, self.kind, self.procedure)


def check_choice(field_name: str, value: Any) -> Any:
    """``value`` for ``field_name`` as the page stores it, checked by :mod:`vp3d.checks`
    (text from a link is read like a typed option); raises ``ValueError`` naming the valid values."""
    return _CHECKS[field_name](value)


_CHECKS = {"level": check_procedure_level, "grade": check_grade, "kind": check_kind,
           "procedure": check_procedure, "audience": check_audience, "lang": check_lang}


def page_number(name: str, value: Any) -> float:
    """A finite number the page sent (a number or numeric text), or a ValueError naming ``name``."""
    if isinstance(value, bool) or not isinstance(value, (int, float, str)):
        raise ValueError(f"{name} must be a number, got {shown(value)}")
    try:
        number = float(value)
    except ValueError:
        raise ValueError(f"{name} must be a number, got {shown(value)}") from None
    if not math.isfinite(number):
        raise ValueError(f"{name} must be a finite number, got {shown(value)}")
    return number


#: The page URL's parameters; any other is named on the page as ignored.
URL_PARAMETERS = ("level", "grade", "kind", "procedure", "audience", "lang", "step", "mode")


@dataclass
class UrlRequest:
    """What a page URL asked for, after checking: a choice, a step and messages for bad values."""

    choice: ViewChoice
    step: str | int | None = None  # a step id or a 1-based number, checked against the scene later
    messages: list[str] = field(default_factory=list)
    mode: str = "story"


def parse_query(query: str | Mapping[str, Any], default: ViewChoice) -> UrlRequest:
    """Read ``?level=&grade=&kind=&procedure=&audience=&lang=&step=&mode=``; bad values keep the
    default.

    Never raises: each bad value becomes one message naming the parameter and the valid values,
    in the language the link asks for (else the default's).
    """
    if isinstance(query, str):
        params = {k: v[-1] for k, v in parse_qs(query.lstrip("?"), keep_blank_values=True).items()}
    elif isinstance(query, Mapping):
        params = dict(query)
    else:
        return UrlRequest(default, None, [f"ignored the link's parameters: {type(query).__name__}"])
    choice, messages = default, []
    if "lang" in params:
        try:
            choice = replace(choice, lang=check_choice("lang", params["lang"]))
        except ValueError:
            pass  # named below, in the default language
    _ = gettext_for(choice.lang)
    unknown = sorted(str(k) for k in params if k not in URL_PARAMETERS)
    if unknown:
        messages.append(_("Link: ignored %(names)s; this page reads %(known)s.") % {
            "names": ", ".join(shown(k) for k in unknown[:5]) + (_(" and more") if len(unknown) > 5 else ""),
            "known": ", ".join(URL_PARAMETERS)})
    for name in ("level", "grade", "kind", "procedure", "audience", "lang"):
        if name not in params:
            continue
        try:
            choice = replace(choice, **{name: check_choice(name, params[name])})
        except ValueError as exc:
            default_value = getattr(default, name)
            if name == "lang":
                default_value = LANGUAGES[default_value]
            messages.append(_("Link: %(problem)s; showing %(default)s.") % {
                "problem": exc, "default": default_value})
    step = params.get("step")
    if step is not None:
        text = str(step).strip()
        step = int(text) if text.isdigit() else text
    mode = "story"
    if "mode" in params:
        wanted = str(params["mode"]).strip().lower()
        if wanted not in PAGE_MODES:
            messages.append(_("Link: mode must be one of %(modes)s, got %(got)s; showing the story.") % {
                "modes": ", ".join(PAGE_MODES), "got": shown(params["mode"])})
        elif wanted != "story" and "audience" in params and choice.audience != "student":
            messages.append(_("Link: the %(mode)s is for the student audience; showing the story.")
                            % {"mode": wanted})
        else:
            mode = wanted
            if mode != "story" and choice.audience != "student":
                if default.audience != "kiosk":  # a kiosk says why it stays on the story
                    messages.append(_("Link: the %(mode)s is for students; showing the student words.")
                                    % {"mode": mode})
                choice = replace(choice, audience="student")
    if choice.audience == "kiosk" and default.audience != "kiosk":
        messages.append(_("Link: audience kiosk gives this page the kiosk's large type and patient "
                          "words; the story loops only on a kiosk server (vp3d serve --kiosk)."))
    return UrlRequest(choice, step, messages, mode)


def resolve_step(scene: Scene, wanted: str | int | None,
                 language: str = DEFAULT_LANGUAGE) -> tuple[int, str | None]:
    """Index of ``wanted`` (an id or a 1-based number) in ``scene``, and a message in
    ``language`` if unknown."""
    if wanted is None or wanted == "":
        return 0, None
    if isinstance(wanted, int) and 1 <= wanted <= len(scene.steps):
        return wanted - 1, None
    if isinstance(wanted, str) and wanted in scene.ids:
        return scene.ids.index(wanted), None
    _ = gettext_for(language)
    return 0, _("Link: step must be 1\u2013%(last)s or one of %(ids)s, got %(got)s; showing the "
                "first step.") % {"last": len(scene.steps), "ids": ", ".join(scene.ids), "got": shown(wanted)}


_SCENES: dict[tuple[str, str], Scene] = {}


def scene_for(procedure: str, language: str = DEFAULT_LANGUAGE) -> Scene:
    """The storyboard of ``procedure``, its patient text in ``language`` (loaded once per
    process; raises ``SceneError``)."""
    if (procedure, language) not in _SCENES:
        _SCENES[procedure, language] = load_named_scene(procedure, language=language)
    return _SCENES[procedure, language]


def scene_of(choice: ViewChoice) -> Scene:
    """The storyboard ``choice`` shows: its procedure, in its narration's language."""
    return scene_for(choice.procedure, choice.narration_lang)


def load_all_scenes() -> dict[tuple[str, str], Scene]:
    """Load every scene in every language now, so a broken file or a missing translation stops
    the app before it serves half a story."""
    return {(name, lang): scene_for(name, lang) for name in PROCEDURE_NAMES for lang in LANGUAGES}


def context_for(choice: ViewChoice) -> dict[str, str]:
    return narration_context(choice.level, grade=choice.grade, kind=choice.kind,
                             language=choice.narration_lang)


def source_label(name: str, audience: str = "student") -> str:
    """A citation as shown under the narration: a document's title and publisher (students also
    get its file name, to open it), or a published reference as cited."""
    doc = SOURCES.get(name)
    if doc is None:
        return name
    label = f"{doc.title} \u2014 {doc.publisher}"
    return f"{label} (file {name})" if audience == "student" else label


def step_list(scene: Scene, audience: str, context: Mapping[str, str]) -> list[dict]:
    return [{"index": i, "id": s.id, "title": render_title(s, audience, context)}
            for i, s in enumerate(scene.steps)]


def step_text(step: Step, audience: str, context: Mapping[str, str]) -> dict:
    """Title, sentences (each with its source numbers) and the numbered source list of a step."""
    sentences = render_narration(step, audience, context)
    sources: list[str] = []
    shown = []
    for s in sentences:
        refs = []
        for src in s.sources:
            if src not in sources:
                sources.append(src)
            refs.append(sources.index(src) + 1)
        shown.append({"text": s.text, "refs": refs})
    return {
        "title": render_title(step, audience, context),
        "sentences": shown,
        "sources": [{"n": i + 1, "name": name, "label": source_label(name, audience)}
                    for i, name in enumerate(sources)],
    }


class Timeline:
    """Where the story is: the step and the time within it, and what plays next.

    ``play`` runs the clock; at a step's end (its animation and its narration, whichever is
    longer, plus :data:`HOLD_AFTER_S`) the story moves on, and with ``loop`` it wraps to the first
    step after the last. Stepping while paused shows the step's end state, so a clinician who
    clicks "Next step" sees the result; "Play" at a step's end replays that step.
    """

    def __init__(self, scene: Scene, *, loop: bool = False, speed: float = 1.0):
        self.scene = scene
        self.index = 0
        self.time_s = 0.0
        self.playing = False
        self.loop = loop
        self.speed = float(speed)
        self.narration_s = 0.0  # length of the current step's spoken narration, when known

    @property
    def step(self) -> Step:
        return self.scene.steps[self.index]

    @property
    def duration_s(self) -> float:
        return self.step.duration_s

    @property
    def dwell_s(self) -> float:
        """How long the step stays while playing."""
        return max(self.duration_s, self.narration_s) + HOLD_AFTER_S

    def values(self) -> dict[str, float]:
        return self.step.values_at(self.time_s)

    def go(self, index: int) -> None:
        """Go to step ``index`` (clamped): from its start when playing, else at its end."""
        self.index = min(max(int(index), 0), len(self.scene.steps) - 1)
        self.narration_s = 0.0
        self.time_s = 0.0 if self.playing else self.duration_s

    def next(self) -> None:
        if self.index + 1 < len(self.scene.steps):
            self.go(self.index + 1)
        elif self.loop:
            self.go(0)

    def previous(self) -> None:
        self.go(self.index - 1)

    def seek(self, time_s: float) -> None:
        t = float(time_s)
        if not math.isfinite(t):
            raise ValueError(f"time within the step must be a number, got {shown(time_s)}")
        self.time_s = min(max(t, 0.0), self.duration_s)

    def set_playing(self, playing: bool) -> None:
        if playing and not self.playing and self.time_s >= self.duration_s and self.duration_s > 0:
            self.time_s = 0.0  # replay the step the clinician is looking at
        self.playing = bool(playing)

    def tick(self, dt_s: float) -> bool:
        """Advance the clock by ``dt_s`` wall seconds; returns True when the step changed."""
        if not self.playing:
            return False
        self.time_s += dt_s * self.speed
        if self.time_s >= self.dwell_s:
            if self.index + 1 < len(self.scene.steps) or self.loop:
                self.next()
                self.time_s = 0.0
                return True
            self.time_s = self.duration_s
            self.playing = False
        return False

    def shown_time_s(self) -> float:
        """Time within the step for the slider (the dwell after the animation is not shown)."""
        return min(self.time_s, self.duration_s)
