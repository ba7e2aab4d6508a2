"""The page's own words (labels, buttons, choices, messages) in the session's language.

Every string is marked here or where it is used with ``_``/``N_`` and translated through the
gettext catalogue of :mod:`vp3d.i18n` (``vp3d/locale``); nothing else holds page text per
language. The layout binds to ``state.t`` (:func:`page_strings`), so a change of language
re-labels the page without a reload. Translated: the patient story's page and the kiosk.
Left in English on purpose: the student tools (practice and quiz panels) and the engine's
own messages (value checks, model building progress).
"""

from __future__ import annotations

from typing import Callable

from vp3d.i18n import LANGUAGES, N_, gettext_for
from vp3d.levels import describe_level

#: Page string key -> English text (the catalogue's msgid).
PAGE_TEXT: dict[str, str] = {
    "app_title": N_("vp3d \u2014 Vertebroplasty in 3D"),
    "choices": N_("Choices"),
    "level": N_("Level"),
    "grade": N_("Fracture grade"),
    "grade_short": N_("grade"),
    "kind": N_("Fracture type"),
    "procedure": N_("Procedure"),
    "audience": N_("Audience"),
    "language": N_("Language"),
    "steps": N_("Steps"),
    "cement": N_("Cement"),
    "view_group": N_("3D view"),
    "anatomy_labels": N_("Anatomy labels"),
    "free_camera": N_("Free camera"),
    "show_body": N_("Ribs, lungs and organs"),
    "view_from": N_("View from"),
    "narration": N_("Narration"),
    "sources": N_("Sources"),
    "previous": N_("Previous step"),
    "play": N_("Play"),
    "pause": N_("Pause"),
    "next": N_("Next step"),
    # %(n)s and %(total)s are filled on the page.
    "step_of": N_("Step %(n)s of %(total)s"),
    "start_again": N_("Start again"),
    "time_in_step": N_("Time in step"),
    "mute": N_("Mute"),
    "unmute": N_("Unmute"),
    "save_picture": N_("Save picture"),
    "take_home": N_("Take-home sheet"),
    "connection_lost": N_("The connection to the server was lost."),
    "reload_hint": N_("Reload the page to go on: the story starts again at its first step."),
    "reload": N_("Reload the page"),
    "student_english": N_("The student narration, the practice and the quiz are in English."),
}

GRADE_TITLES = {1: N_("1 \u2014 mild"), 2: N_("2 \u2014 moderate"), 3: N_("3 \u2014 severe")}
KIND_TITLES = {"wedge": N_("Wedge"), "biconcave": N_("Biconcave"), "crush": N_("Crush")}
PROCEDURE_TITLES = {"vertebroplasty": N_("Vertebroplasty"), "kyphoplasty": N_("Kyphoplasty")}
AUDIENCE_TITLES = {"patient": N_("Patient"), "student": N_("Student")}
MODE_TITLES = {"story": N_("Story"), "practice": N_("Practice"), "quiz": N_("Quiz")}
VIEW_TITLES = {"overview": N_("Overview"), "posterior": N_("From behind"), "lateral": N_("Lateral"),
               "oblique": N_("Oblique"), "close_level": N_("Close up")}
#: What the page shows in place of itself when its connection ends (a server restarted or gone):
#: trame swaps this template in; the button reloads, which reaches a live server.
CONNECTION_LOST = (
    '<div role="alert" style="max-width: 34em; margin: 18vh auto; padding: 24px; text-align: center; '
    'font-family: sans-serif; font-size: 20px; line-height: 1.5; color: #1d232c">'
    '<h1 style="font-size: 1.4em; margin: 0 0 12px">{{ t.connection_lost }}</h1>'
    '<p style="margin: 0 0 20px">{{ t.reload_hint }}</p>'
    '<button id="vp3d-reload" onclick="location.reload()" style="font: inherit; min-height: 48px; '
    'padding: 8px 24px; border-radius: 8px; border: 0; background: #2f6f73; color: #fff">'
    '{{ t.reload }}</button></div>')

MODE_ICONS = {"story": "mdi-play-box-outline", "practice": "mdi-needle", "quiz": "mdi-help-circle-outline"}


def page_strings(language: str) -> dict[str, str]:
    """Every :data:`PAGE_TEXT` string in ``language``."""
    _ = gettext_for(language)
    return {key: _(text) for key, text in PAGE_TEXT.items()}


def _options(titles: dict, _: Callable[[str], str]) -> list[dict]:
    return [{"title": _(title), "value": value} for value, title in titles.items()]


def choice_options(language: str, levels: list[str]) -> dict[str, list[dict]]:
    """The menus' options (state key -> items) with their titles in ``language``."""
    _ = gettext_for(language)
    return {
        "level_options": [{"title": f"{lv} ({level_name(lv, language)})", "value": lv} for lv in levels],
        "grade_options": _options(GRADE_TITLES, _),
        "kind_options": _options(KIND_TITLES, _),
        "procedure_options": _options(PROCEDURE_TITLES, _),
        "audience_options": _options(AUDIENCE_TITLES, _),
        "camera_presets": _options(VIEW_TITLES, _),
        "mode_options": [{**item, "icon": MODE_ICONS[item["value"]]} for item in _options(MODE_TITLES, _)],
        "lang_options": [{"title": name, "value": code} for code, name in LANGUAGES.items()],
    }


def decimal(value: float, language: str, places: int = 1) -> str:
    """``3.5`` as the language writes it: ``3.5`` in English, ``3,5`` in Spanish."""
    text = f"{value:.{places}f}"
    return text.replace(".", ",") if language == "es" else text


def level_name(level: str, language: str) -> str:
    """``L1`` -> ``1st lumbar`` (``es``: ``1.ª lumbar``), for the level menu."""
    return describe_level(level, language).removesuffix(" vertebra").replace(" v\u00e9rtebra", "")


def level_label(level: str, language: str) -> str:
    """``L1 — 1st lumbar vertebra``, the label over the 3-D view."""
    return f"{level} \u2014 {describe_level(level, language)}"


__all__ = ["PAGE_TEXT", "choice_options", "decimal", "level_label", "level_name", "page_strings"]
