"""Layout of the vp3d story page: widgets bound to the state of :mod:`vp3d.app.core`.

Only layout lives here. Text (titles, narration, sources, readouts) is plain Vuetify/HTML: the
3D view renders client-side with vtk.js, which drops VTK text actors. Everything is served by
the app itself (no CDN): Vuetify and vtk.js come with trame, the helpers from ``static/``.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from trame.ui.vuetify3 import VAppLayout
from trame.widgets import client, html
from trame.widgets import vtk as vtk_widgets
from trame.widgets import vuetify3 as v3

from vp3d.app import practice_ui, scene_sync

if TYPE_CHECKING:
    from vp3d.app.core import VertebroplastyApp

VIEW_REF = "vp3d_view"
STATIC = Path(__file__).with_name("static")

THEME = {
    "theme": {
        "defaultTheme": "vp3d_calm",
        "themes": {
            # Patients and the kiosk: light, calm blue-green, dark text, no red.
            "vp3d_calm": {
                "dark": False,
                "colors": {
                    "background": "#eef3f3", "surface": "#ffffff", "primary": "#2f6f73",
                    "secondary": "#5b7f95", "error": "#b3541e", "info": "#2f6f73",
                },
            },
            # Students: the dark slate of the first page, amber for the level.
            "vp3d_dark": {
                "dark": True,
                "colors": {
                    "background": "#1d232c", "surface": "#252d38", "primary": "#e39b2d",
                    "secondary": "#9db9d8", "error": "#e57373", "info": "#9db9d8",
                },
            },
        },
    }
}

CSS = """
html, body { overflow: hidden; overscroll-behavior-x: none; }
/* A sideways swipe on these moves between steps (vp3d.js), not back in the browser's history. */
#vp3d-narration, #vp3d-fluoro, #vp3d-controls, #vp3d-steps { touch-action: pan-y pinch-zoom; }
/* On the 3-D view every gesture is the view's: one finger rotates, two pinch-zoom (vtk.js). */
#vp3d-view { touch-action: none; }
.vp3d-root { display: grid; grid-template-rows: auto minmax(0, 1fr) auto; height: 100vh;
  font-size: 16px; }
.vp3d-root.aud-patient, .vp3d-root.aud-kiosk { font-size: 19px; }
.vp3d-root.aud-kiosk { font-size: 24px; }
.vp3d-header { display: flex; align-items: center; gap: 12px; padding: 10px 14px 6px 14px;
  flex-wrap: wrap; border-bottom: 1px solid rgba(128,128,128,.25); }
.vp3d-header h1 { font-size: 1.2em; font-weight: 600; margin: 0; white-space: nowrap; }
.vp3d-choices { display: flex; gap: 8px; margin-left: auto; flex-wrap: wrap; }
.vp3d-choices .v-select { width: 150px; flex: 0 0 auto; }
.vp3d-choices .vp3d-choice-level { width: 200px; }
.vp3d-choices .vp3d-choice-grade { width: 176px; }
.vp3d-choices .vp3d-choice-kind { width: 142px; }
.vp3d-choices .vp3d-choice-procedure { width: 178px; }
.vp3d-choices .vp3d-choice-audience { width: 142px; }
.vp3d-choices .vp3d-choice-lang { width: 124px; }
.vp3d-lang-note { font-size: .85em; opacity: .85; font-style: italic; }
.vp3d-choices-toggle { display: none !important; }
.v-btn { text-transform: none; letter-spacing: normal; }
.vp3d-main { display: grid; grid-template-columns: 230px minmax(0, 1fr) minmax(340px, 34vw);
  min-height: 0; }
.aud-patient .vp3d-main, .aud-kiosk .vp3d-main { grid-template-columns: 260px minmax(0, 1fr) minmax(360px, 36vw); }
.vp3d-steps { overflow-y: auto; padding: 8px; border-right: 1px solid rgba(128,128,128,.25); }
.vp3d-steps ol { list-style: none; margin: 0; padding: 0; }
.vp3d-steps button { width: 100%; text-align: left; padding: 6px 10px; margin: 2px 0; min-height: 40px;
  border-radius: 8px; font-size: 0.9em; line-height: 1.25; color: inherit; display: flex; gap: 8px; }
.aud-kiosk .vp3d-steps button { min-height: 56px; }
.vp3d-steps button:hover { background: rgba(128,128,128,.15); }
.vp3d-steps button[aria-current="step"] { background: rgb(var(--v-theme-primary)); color: rgb(var(--v-theme-on-primary)); font-weight: 600; }
.vp3d-steps .num { opacity: .7; min-width: 1.4em; }
.vp3d-view-wrap { position: relative; min-width: 0; min-height: 0; background: #1d232c; }
.vp3d-overlay { position: absolute; z-index: 2; background: rgba(29,35,44,.82); color: #fff;
  border-radius: 10px; padding: 6px 12px; }
.vp3d-side { display: flex; flex-direction: column; min-height: 0; border-left: 1px solid rgba(128,128,128,.25); }
.vp3d-narration { flex: 1 1 auto; overflow-y: auto; padding: 12px 16px; min-height: 0; }
.vp3d-narration h2 { font-size: 1.25em; margin: 0 0 8px 0; }
.vp3d-narration p { margin: 0 0 .5em 0; line-height: 1.45; }
.vp3d-narration sup { opacity: .65; font-size: .65em; margin-left: 2px; }
.vp3d-sources { font-size: 0.72rem; opacity: .85; margin-top: 10px; border-top: 1px solid rgba(128,128,128,.3); padding-top: 6px; }
.aud-kiosk .vp3d-sources { font-size: 0.95rem; }
.vp3d-sources ol { margin: 2px 0 0 1.2em; padding: 0; }
.vp3d-fluoro { display: flex; gap: 8px; padding: 8px; background: #0c0f13; color: #e8e8e8; flex: 0 0 auto; }
.vp3d-fluoro figure { flex: 1 1 0; margin: 0; min-width: 0; text-align: center; }
.vp3d-fluoro img { width: 100%; max-height: 30vh; object-fit: contain; display: block; background: #000; border-radius: 4px; }
.vp3d-fluoro figcaption { font-size: 0.8rem; margin-top: 2px; }
.vp3d-controls { display: flex; align-items: center; gap: 10px; padding: 8px 14px;
  border-top: 1px solid rgba(128,128,128,.25); flex-wrap: wrap; }
.vp3d-controls .v-btn { min-height: 48px; }
.aud-kiosk .vp3d-controls .v-btn { min-height: 64px; font-size: 1.1rem; }
.vp3d-controls .vp3d-slider { flex: 1 1 auto; min-width: 120px; }
.vp3d-stepcount { white-space: nowrap; font-size: .9em; opacity: .85; }
.vp3d-slider-label { white-space: nowrap; font-size: .9em; }
.vp3d-ml { top: 12px; right: 12px; font-size: 1.8em; font-weight: 700; font-variant-numeric: tabular-nums; }
.vp3d-readouts { bottom: 12px; right: 12px; font-size: .85rem; max-width: 60%; }
.vp3d-messages { position: absolute; z-index: 3; top: 12px; right: 12px; width: min(520px, 62%);
  display: flex; flex-direction: column; gap: 8px; pointer-events: none; }
.vp3d-messages > * { pointer-events: auto; }
.vp3d-legend { bottom: 12px; left: 12px; font-size: .8rem; }
.vp3d-swatch { display: inline-block; width: 12px; height: 12px; border-radius: 3px; margin-right: 8px; }
.vp3d-level { top: 12px; left: 12px; font-size: 1em; }
.vp3d-camera { top: 64px; left: 12px; display: flex; flex-direction: column; gap: 4px; padding: 4px 10px; font-size: .85rem; }
.vp3d-camera .v-switch .v-label { font-size: .85rem; color: #fff; opacity: 1; }
.vp3d-building { inset: 0; margin: auto; width: min(420px, 80%); height: fit-content; text-align: center; padding: 18px; }
.vp3d-modes { flex: 0 0 auto; }
.vp3d-main { position: relative; }
.vp3d-main.mode-practice { grid-template-columns: 300px minmax(0, 1fr) minmax(380px, 38vw); }
.vp3d-practice { overflow-y: auto; padding: 8px 12px; border-right: 1px solid rgba(128,128,128,.25); }
.vp3d-practice-h { font-size: 1em; font-weight: 600; margin: 10px 0 4px 0; }
.vp3d-practice .v-slider { margin: 0; }
.vp3d-pr-label { font-size: .8em; margin-top: 6px; }
.vp3d-pr-value { font-size: .78em; opacity: .8; text-align: right; font-variant-numeric: tabular-nums; }
.vp3d-pr-sub { font-size: .85em; opacity: .85; margin-top: 4px; }
.vp3d-pr-row { display: flex; flex-wrap: wrap; gap: 6px; align-items: center; }
.vp3d-pr-row .v-btn { min-height: 40px; }
.vp3d-pr-ml { font-size: 1.3em; font-weight: 700; font-variant-numeric: tabular-nums; }
.vp3d-hint { font-size: .8em; color: rgb(var(--v-theme-primary)); margin-top: 4px; }
.vp3d-pr-guide { padding-left: 1.2em; }
.vp3d-pr-guide li { margin-bottom: .45em; line-height: 1.4; }
.vp3d-fb-good::before { content: "✓  "; color: #8fd19e; }
.vp3d-fb-warning { color: #ffcf8a; }
.vp3d-fb-warning::before { content: "⚠  "; }
.vp3d-pr-fluoro img { max-height: 42vh; cursor: crosshair; touch-action: none; }
.vp3d-pr-fluoro img.vp3d-stale { opacity: .55; }
.vp3d-score-list { list-style: none; padding: 0; margin: 0; }
.vp3d-score-item { border-left: 5px solid #888; padding: 6px 12px; margin: 0 0 12px 0; background: rgba(128,128,128,.08); border-radius: 6px; }
.vp3d-score-good { border-left-color: #8fd19e; }
.vp3d-score-acceptable { border-left-color: #f4cf8c; }
.vp3d-score-needs { border-left-color: #ef9a9a; }
.vp3d-score-head { display: flex; align-items: baseline; gap: 12px; }
.vp3d-score-head h3 { font-size: 1.05em; margin: 0; }
.vp3d-score-item dl { display: grid; grid-template-columns: 6.5em 1fr; gap: 2px 10px; margin: 4px 0; }
.vp3d-score-item dt { opacity: .75; }
.vp3d-score-item dd { margin: 0; }
.vp3d-verdict { font-weight: 700; text-transform: capitalize; }
.vp3d-verdict-good { color: #8fd19e; }
.vp3d-verdict-acceptable { color: #f4cf8c; }
.vp3d-verdict-needs { color: #ef9a9a; }
.vp3d-ref { font-size: .78em; opacity: .8; margin: 2px 0 0 0; }
.vp3d-quiz { position: absolute; inset: 0; z-index: 4; overflow-y: auto; background: rgb(var(--v-theme-background)); }
.vp3d-tags { position: absolute; inset: 0; pointer-events: none; z-index: 2; overflow: hidden; }
.vp3d-tag { position: absolute; left: 0; top: 0; visibility: hidden; will-change: transform; }
.vp3d-tag-dot { position: absolute; width: 9px; height: 9px; margin: -4.5px 0 0 -4.5px; border-radius: 50%; border: 2px solid #fff; box-shadow: 0 0 2px #000; }
.vp3d-tag-line { position: absolute; left: 0; top: -0.75px; height: 1.5px; width: 12px; background: rgba(255,255,255,.85); transform-origin: 0 50%; }
.vp3d-tag-text { position: absolute; left: 0; top: -0.7em; white-space: nowrap; font-size: .78rem; line-height: 1.4; color: #fff; background: rgba(29,35,44,.88); padding: 0 6px; border-radius: 4px; border-left: 4px solid; }
.vp3d-tag-left .vp3d-tag-text { left: auto; right: 0; border-left: none; border-right: 4px solid; }
:focus-visible { outline: 3px solid #f4cf8c !important; outline-offset: 2px; }
.vp3d-controls .v-slider .v-label { opacity: 1; }
/* A still step disables the time slider; its label stays legible (WCAG contrast). */
.vp3d-controls .v-slider.v-input--disabled .v-input__prepend { opacity: 1; }
.vp3d-steps button[aria-current="step"] .num { opacity: 1; }
.aud-student .vp3d-steps button[aria-current="step"] { color: #1d232c; }
/* Kiosk at two metres: captions 32 px and more on a 1080p screen, the step title larger. */
.vp3d-root.aud-kiosk { font-size: clamp(24px, 3vh, 40px); }
.aud-kiosk .vp3d-narration h2 { font-size: 1.35em; }
.aud-kiosk .vp3d-sources { font-size: .7em; }
.aud-kiosk .vp3d-steps button { font-size: .75em; }
/* Kiosk: no step list (the story plays by itself), the 3-D view and large narration side by
   side, Start again always in reach. */
.aud-kiosk .vp3d-steps { display: none; }
.aud-kiosk .vp3d-main { grid-template-columns: minmax(0, 1fr) minmax(0, 44vw); }
.aud-kiosk .vp3d-fluoro img { max-height: 24vh; }
.aud-kiosk #vp3d-start-again { margin-left: auto; }
@media (prefers-reduced-motion: reduce) {
  *, *::before, *::after { transition-duration: 0s !important; animation-duration: 0s !important;
    scroll-behavior: auto !important; }
}
/* Phones and portrait tablets: one column that scrolls, the 3-D view first and full width,
   then the narration and the images, then the steps; controls wrap; targets 44 px or more. */
@media (max-width: 900px) {
  html, body { overflow: auto; }
  .vp3d-root { height: auto; min-height: 100vh; grid-template-rows: auto auto auto; }
  .vp3d-header { padding: 6px 10px; }
  .vp3d-header h1 { white-space: normal; }
  .vp3d-choices-toggle { display: inline-flex !important; margin-left: auto; min-height: 44px; }
  .vp3d-choices { margin-left: 0; width: 100%; }
  .vp3d-choices:not(.open) { display: none; }
  .vp3d-choices .v-select[class*="vp3d-choice-"] { width: calc(50% - 4px); }
  .vp3d-choices .v-select { width: calc(50% - 4px); flex: 1 1 calc(50% - 4px); }
  .vp3d-main, .aud-patient .vp3d-main, .aud-kiosk .vp3d-main, .vp3d-main.mode-practice {
    grid-template-columns: minmax(0, 1fr); }
  .vp3d-practice { order: 3; border-right: none; border-top: 1px solid rgba(128,128,128,.25); overflow-y: visible; }
  .vp3d-view-wrap { order: 1; height: 56vh; min-height: 260px; }
  .vp3d-side { order: 2; border-left: none; border-top: 1px solid rgba(128,128,128,.25); }
  .vp3d-narration { overflow-y: visible; }
  .vp3d-steps { order: 3; border-right: none; border-top: 1px solid rgba(128,128,128,.25); }
  .vp3d-steps button { min-height: 44px; }
  .vp3d-fluoro img { max-height: 40vh; }
  .vp3d-controls { flex-wrap: wrap; gap: 6px; padding: 6px 10px; position: sticky; bottom: 0; z-index: 3;
    background: rgb(var(--v-theme-background)); }
  .vp3d-controls .v-btn { min-height: 44px; flex: 1 1 auto; }
  .vp3d-controls .vp3d-slider { flex: 1 1 100%; order: 5; }
  .vp3d-controls .vp3d-slider-label { order: 5; }
  .vp3d-readouts { max-width: 48%; font-size: .72rem; }
  .vp3d-legend { max-width: 48%; font-size: .7rem; }
  .vp3d-controls { overflow-x: clip; }
  #vp3d-modes { width: 100%; }
  #vp3d-modes .v-btn { flex: 1 1 0; min-width: 0; padding: 0 6px; }
  /* Practice by touch: the images to drag on sit under the 3-D view, then the controls, then
     the guide; alerts and messages stay in sight at the top of the screen while scrolling. */
  .mode-practice .vp3d-side { display: contents; }
  .mode-practice #vp3d-pr-fluoro { order: 2; }
  .mode-practice .vp3d-practice { order: 3; }
  .mode-practice #vp3d-pr-guide { order: 4; border-top: 1px solid rgba(128,128,128,.25); }
  .vp3d-messages { position: fixed; top: 8px; left: 8px; right: 8px; width: auto; z-index: 20; }
  .vp3d-pr-row .v-btn { min-height: 44px; }
}
"""


def _aria(**attrs: str) -> list[tuple[str, str]]:
    return [(key, key.replace("_", "-")) for key in attrs]


def build_ui(app: VertebroplastyApp) -> VAppLayout:
    """Lay out the page for ``app`` and wire the 3D view into its controller."""
    server, ctrl = app.server, app.ctrl
    app.state.setdefault("lang", "en")  # the take-home sheet's language, until the page has one
    app.state.setdefault("sheet_busy", False)
    server.enable_module({"serve": {"__vp3d": str(STATIC)}, "scripts": ["__vp3d/vp3d.js"]})
    with VAppLayout(server, vuetify_config=THEME, full_height=True) as layout:
        layout.root.theme = ("audience === 'student' ? 'vp3d_dark' : 'vp3d_calm'",)
        client.Style(CSS)
        # The document's language follows the session's (screen readers, hyphenation).
        client.ClientStateChange(value="lang", trigger_on_create=True,
                                 change="utils.get('vp3d').setLanguage(lang)")
        client.ClientTriggers(
            mounted="utils.get('vp3d').installKeys(trigger); utils.get('vp3d').installPartLabels();"
                    " utils.get('vp3d').installSwipe(trigger); utils.get('vp3d').installMotion(trigger);"
                    " utils.get('vp3d').installQuizMemory(trigger);"
                    " trigger('url_params', [utils.get('location.search')])"
        )
        with html.Div(classes=("['vp3d-root', 'aud-' + audience]",), id="vp3d-root",
                      __properties=[("data_query", "data-query")], data_query=("applied_query",)):
            _header()
            with html.Div(classes=("['vp3d-main', 'mode-' + mode]",)):
                _step_list()
                with html.Div(v_if="mode === 'practice'", style="display: contents"):
                    practice_ui.controls()
                _view(ctrl, app)
                _side_panel()
                with html.Div(v_if="mode === 'quiz'", classes="vp3d-quiz", id="vp3d-quiz"):
                    app.quiz.layout()
            _controls()
            practice_ui.score_dialog()
        html.Audio(
            id="vp3d-audio",
            src=("audio_url || undefined",),
            autoplay=True,
            muted=("muted",),
            __properties=[("autoplay", "autoplay"), ("muted", ":muted")],
        )
    return layout


def _header() -> None:
    with html.Header(classes="vp3d-header"):
        v3.VIcon("mdi-bone", color="primary")
        html.H1("{{ scene_title || app_title }}", id="vp3d-title")
        with v3.VBtnToggle(v_if="!kiosk && audience === 'student'", v_model=("mode",), mandatory=True,
                           density="compact", color="primary", variant="outlined", divided=True,
                           classes="vp3d-modes", id="vp3d-modes", disabled=("building",)):
            v3.VBtn("{{ m.title }}", v_for="m in mode_options", key="m.value", value=("m.value",),
                    prepend_icon=("m.icon",), id=("'vp3d-mode-' + m.value",))
        v3.VBtn("{{ level }} \u00b7 {{ t.grade_short }} {{ grade }} \u00b7 {{ kind_options.find((k) => k.value === kind)?.title || kind }}", v_if="!kiosk",
                prepend_icon="mdi-tune-variant", append_icon=("choices_open ? 'mdi-chevron-up' : 'mdi-chevron-down'",),
                variant="tonal", classes="vp3d-choices-toggle", id="vp3d-choices-toggle",
                click="choices_open = !choices_open",
                __properties=_aria(aria_expanded="", aria_controls=""),
                aria_expanded=("choices_open ? 'true' : 'false'",), aria_controls="vp3d-choices")
        with html.Div(classes=("['vp3d-choices', choices_open ? 'open' : '']",), v_if="!kiosk",
                      id="vp3d-choices", __properties=_aria(role="", aria_label=""), role="group",
                      aria_label=("t.choices",)):
            for name, label, options in (
                ("level", "level", "level_options"),
                ("grade", "grade", "grade_options"),
                ("kind", "kind", "kind_options"),
                ("procedure", "procedure", "procedure_options"),
                ("audience", "audience", "audience_options"),
                ("lang", "language", "lang_options"),
            ):
                v3.VSelect(
                    v_model=(name,),
                    items=(options,),
                    label=(f"t.{label}",),
                    density="compact",
                    hide_details=True,
                    variant="outlined",
                    disabled=("building",),
                    id=f"vp3d-choice-{name}",
                    classes=f"vp3d-choice-{name}",
                )


def _step_list() -> None:
    with html.Nav(classes="vp3d-steps", id="vp3d-steps", v_show="mode !== 'practice'",
                  inert=("mode === 'quiz'",),
                  __properties=[*_aria(aria_label=""), ("inert", ":inert")], aria_label=("t.steps",)):
        with html.Ol():
            with html.Li(v_for="item in steps", key="item.id"):
                with html.Button(
                    click="trigger('go_step', [item.index])",
                    classes="vp3d-step",
                    __properties=_aria(aria_current=""),
                    aria_current=("item.index === step_index ? 'step' : undefined",),
                    disabled=("building",),
                ):
                    html.Span("{{ item.index + 1 }}", classes="num")
                    html.Span("{{ item.title }}")


def _view(ctrl, app) -> None:
    with html.Div(classes="vp3d-view-wrap", id="vp3d-view", inert=("mode === 'quiz'",),
                  __properties=[("inert", ":inert")]):
        app.state.setdefault("scene_on_page", False)
        view = vtk_widgets.VtkLocalView(
            app.render_window,
            ref=VIEW_REF,
            style="position: absolute; inset: 0; width: 100%; height: 100%;",
            # Once the page shows a scene it follows deltas (vp3d.app.scene_sync.SceneSender).
            after_scene_loaded="scene_on_page = true",
        )
        ctrl.view_update = scene_sync.SceneSender(view, app.render_window, app.state).update
        ctrl.view_push_camera = view.push_camera
        with html.Div(v_if="part_anchors.length", classes="vp3d-tags", id="vp3d-tags"):
            with html.Div(v_for="(a, i) in part_anchors", key="a.name + a.side", classes="vp3d-tag",
                          __properties=[("data_anchor", "data-anchor")], data_anchor=("JSON.stringify(a)",)):
                html.Span(classes="vp3d-tag-line")
                html.Span(classes="vp3d-tag-dot", style=("{ background: a.color }",))
                html.Span("{{ a.name }}", classes="vp3d-tag-text", style=("{ borderColor: a.color }",))
        html.Div("{{ level_label }}", v_if="show_labels && level_label",
                 classes="vp3d-overlay vp3d-level", id="vp3d-level-label")
        with html.Div(v_if="show_ml && mode === 'story'", classes="vp3d-overlay vp3d-ml", id="vp3d-ml-box"):
            html.Span("{{ t.cement }} ", classes="text-body-2")
            html.Span("{{ cement_ml_text }}", id="vp3d-ml")
        practice_ui.feedback()
        with html.Div(v_if="audience === 'student' && !kiosk && scene_ready", classes="vp3d-overlay vp3d-camera",
                      id="vp3d-camera", __properties=_aria(role="", aria_label=""), role="group",
                      aria_label=("t.view_group",)):
            v3.VSwitch(v_model=("part_labels",), label=("t.anatomy_labels",), density="compact",
                       hide_details=True, color="primary", id="vp3d-part-labels")
            v3.VSwitch(v_model=("free_camera",), label=("t.free_camera",), density="compact", hide_details=True,
                       color="primary", id="vp3d-free-camera", v_if="mode === 'story'")
            v3.VSwitch(v_model=("show_body",), label=("t.show_body",), density="compact",
                       hide_details=True, color="primary", id="vp3d-show-body", v_if="mode === 'story'")
            with v3.VMenu(location="bottom end"):
                with v3.Template(v_slot_activator="{ props }"):
                    v3.VBtn("{{ t.view_from }}", v_bind="props", variant="tonal", size="small",
                            prepend_icon="mdi-camera-switch-outline", id="vp3d-view-from")
                with v3.VList(density="compact"):
                    v3.VListItem(v_for="p in camera_presets", key="p.value", title=("p.title",),
                                 click="trigger('camera_preset', [p.value])",
                                 id=("'vp3d-view-' + p.value",))
        with html.Div(v_if="readouts.length && mode === 'story'", classes="vp3d-overlay vp3d-readouts", id="vp3d-readouts"):
            html.Div("{{ line }}", v_for="line in readouts", key="line")
        with html.Div(v_if="legend.length && audience === 'student'", classes="vp3d-overlay vp3d-legend",
                      id="vp3d-legend"):
            with html.Div(v_for="item in legend", key="item.label", classes="d-flex align-center"):
                html.Span(classes="vp3d-swatch", style=("{ background: item.color }",))
                html.Span("{{ item.label }}")
        with html.Div(v_if="building", classes="vp3d-overlay vp3d-building", id="vp3d-building",
                      __properties=_aria(aria_live="polite"), aria_live="polite"):
            html.Div("{{ build_message }}\u2026", classes="mb-2")
            v3.VProgressLinear(model_value=("build_progress",), color="primary", height=8, rounded=True)
        with html.Div(classes="vp3d-messages", id="vp3d-messages"):
            # One column: the practice's breach alert first, then the last refusal under it,
            # so neither covers the other.
            practice_ui.alert()
            v3.VAlert(
                v_if="error_message && mode !== 'quiz'", text=("error_message",), type="error", closable=True,
                density="compact", id="vp3d-error", click_close="error_message = ''",
            )
        with v3.VAlert(
            v_if="notices.length", type="warning", closable=True, density="compact",
            id="vp3d-notice", click_close="notices = []",
            style="position: absolute; z-index: 3; bottom: 12px; left: 50%; transform: translateX(-50%);"
                  " width: min(640px, 90%);",
        ):
            html.Div("{{ line }}", v_for="line in notices", key="line")


def _side_panel() -> None:
    with html.Aside(classes="vp3d-side", inert=("mode === 'quiz'",), __properties=[("inert", ":inert")]):
        practice_ui.guidance()
        with html.Section(
            v_show="mode !== 'practice'",
            classes="vp3d-narration", id="vp3d-narration",
            __properties=_aria(role="", aria_label="", aria_live=""),
            role="region", aria_label=("t.narration",), aria_live="polite", tabindex="0",
        ):
            html.H2("{{ step_title }}", id="vp3d-step-title")
            html.P("{{ t.student_english }}", v_if="lang !== 'en' && audience === 'student'",
                   classes="vp3d-lang-note", id="vp3d-lang-note")
            with html.Div(id="vp3d-captions"):
                with html.P(v_for="(s, i) in sentences", key="i"):
                    html.Span("{{ s.text }}")
                    html.Sup("{{ s.refs.join(',') }}")
            with html.Div(classes="vp3d-sources", id="vp3d-sources", v_if="sources.length"):
                html.Strong("{{ t.sources }}")
                with html.Ol():
                    html.Li("{{ src.label }}", v_for="src in sources", key="src.n",
                            classes="vp3d-source")
        practice_ui.images()
        with html.Div(v_if="fluoro.length && mode !== 'practice'", classes="vp3d-fluoro", id="vp3d-fluoro"):
            with html.Figure(v_for="item in fluoro", key="item.view"):
                html.Img(src=("item.src",), alt=("item.alt",), width=256, height=256,
                         classes=("'vp3d-fluoro-' + item.view",))
                html.Figcaption("{{ item.caption }}")


def _controls() -> None:
    with html.Div(classes="vp3d-controls", id="vp3d-controls", v_show="mode === 'story'",
                  inert=("mode !== 'story'",), __properties=[("inert", ":inert")]):
        v3.VBtn("{{ t.previous }}", prepend_icon="mdi-chevron-left", variant="tonal", id="vp3d-prev",
                click="trigger('previous_step')", disabled=("building || step_index === 0",))
        v3.VBtn("{{ playing ? t.pause : t.play }}",
                prepend_icon=("playing ? 'mdi-pause' : 'mdi-play'",), color="primary",
                variant="flat", id="vp3d-play", click="trigger('toggle_play')", disabled=("building",))
        v3.VBtn("{{ t.next }}", append_icon="mdi-chevron-right", variant="tonal", id="vp3d-next",
                click="trigger('next_step')",
                disabled=("building || (!kiosk && step_index >= step_count - 1)",))
        html.Span("{{ t.step_of.replace('%(n)s', step_index + 1).replace('%(total)s', step_count) }}",
                  classes="vp3d-stepcount",
                  id="vp3d-stepcount")
        v3.VBtn("{{ t.start_again }}", prepend_icon="mdi-restart", color="primary", variant="flat",
                v_if="kiosk", id="vp3d-start-again", click="trigger('start_again')",
                disabled=("building",))
        # Its label is an element of its own: Vuetify gives a slider's label its input's id.
        html.Span("{{ t.time_in_step }}", v_if="!kiosk", id="vp3d-slider-label",
                  classes="vp3d-slider-label")
        v3.VSlider(
            v_if="!kiosk",  # at an event the story plays by itself; Start again replaces it
            model_value=("step_time",),
            min=0,
            max=("Math.max(step_duration, 0.01)",),
            step=0.1,
            disabled=("building || step_duration <= 0",),
            update_modelValue="trigger('seek', [$event])",
            hide_details=True,
            color="primary",
            name=("t.time_in_step",),  # the thumb's accessible name
            classes="vp3d-slider",
            id="vp3d-slider",
        )
        v3.VBtn("{{ muted ? t.unmute : t.mute }}",
                prepend_icon=("muted ? 'mdi-volume-off' : 'mdi-volume-high'",), variant="tonal",
                id="vp3d-mute", click="muted = !muted",
                __properties=_aria(aria_pressed=""), aria_pressed=("muted ? 'true' : 'false'",))
        v3.VBtn("{{ t.save_picture }}", prepend_icon="mdi-camera", variant="tonal", id="vp3d-save",
                v_if="!kiosk",  # nothing to save to at an event
                disabled=("building",),
                click="trigger('save_picture').then((p) => utils.get('vp3d').download(p))")
        v3.VBtn("{{ t.take_home }}", prepend_icon="mdi-file-document-outline", variant="tonal",
                id="vp3d-handout", v_if="!kiosk",  # one patient's sheet (vp3d.app.take_home)
                href=("`/handout.pdf?level=${level}&grade=${grade}&kind=${kind}&procedure=${procedure}"
                      "&lang=${lang}&paper=${utils.get('vp3d').sheetPaper()}`",),
                loading=("sheet_busy",), disabled=("building",),
                click="sheet_busy = true; utils.get('vp3d').downloadSheet($event)"
                      ".then((problem) => { sheet_busy = false; if (problem) error_message = problem; })")
