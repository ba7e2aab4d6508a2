"""Widgets of the student practice (state and handlers in :mod:`vp3d.app.practice_panel`).

Three places on the page: the controls replace the step list, the feedback sits over the 3D
view, and the AP and lateral images (drag on them to aim) replace the story's fluoroscopy.
Every control is a real button or slider with a label, so the practice works by keyboard.
"""

from __future__ import annotations

from trame.widgets import html
from trame.widgets import vuetify3 as v3

from vp3d.app.practice_panel import ADVANCE_STEPS_MM, AIM_FIELDS
from vp3d.practice.guide import practice_guide

#: Slider ranges shown on the page (the engine accepts these and says so outside them).
CARM_SLIDERS = {
    "ap": {"lao_deg": (-45, 45, "Oblique rotation"), "cranial_deg": (-40, 40, "Cranial (+) / caudal (\u2212) tilt")},
    "lateral": {"lao_deg": (-45, 45, "Rotation from the true lateral"),
                "cranial_deg": (-40, 40, "Cranial (+) / caudal (\u2212) tilt")},
}
BUSY = "building || !pr_ready"


def _slider_label(text: str, slider_id: str) -> None:
    """A slider's visible label with an id of its own (Vuetify gives its label the input's id)."""
    html.Div(text, id=f"{slider_id}-label", classes="vp3d-pr-label")


def controls() -> None:
    """The practice's left column: needle aim, advance, C-arm, cement, score."""
    with html.Div(classes="vp3d-practice", id="vp3d-practice",
                  __properties=[("aria_label", "aria-label")], aria_label="Needle practice controls"):
        html.H2("Needle", classes="vp3d-practice-h")
        with v3.VBtnToggle(model_value=("pr_side",), mandatory=True, density="compact",
                           color="primary", divided=True, variant="outlined", id="vp3d-pr-side",
                           update_modelValue="trigger('practice_side', [$event])",
                           disabled=(BUSY + " || pr_entry_locked",)):
            for side in ("right", "left"):
                v3.VBtn(f"{side.capitalize()} pedicle", value=side, id=f"vp3d-pr-side-{side}",
                        __properties=[("aria_pressed", "aria-pressed")],
                        aria_pressed=(f"pr_side === '{side}' ? 'true' : 'false'",))
        with v3.VBtnToggle(v_if="pr_parapedicular_ok", model_value=("pr_route",), mandatory=True,
                           density="compact", color="primary", divided=True, variant="outlined",
                           id="vp3d-pr-route", update_modelValue="trigger('practice_route', [$event])",
                           disabled=(BUSY + " || pr_entry_locked",),
                           __properties=[("aria_label", "aria-label")], aria_label="Planned route"):
            for route, label in (("transpedicular", "Through the pedicle"),
                                 ("parapedicular", "Beside it (parapedicular)")):
                v3.VBtn(label, value=route, id=f"vp3d-pr-route-{route}",
                        __properties=[("aria_pressed", "aria-pressed")],
                        aria_pressed=(f"pr_route === '{route}' ? 'true' : 'false'",))
        html.Div("{{ pr_cement_ml > 0 ? 'Cement is in: the needle stays. Start over to practise again.'"
                 " : pr_locked ? 'Withdraw the needle out of the bone to change its angle.'"
                 " : 'Withdraw the needle fully to move the skin entry or change side.' }}",
                 v_if="pr_entry_locked", classes="vp3d-hint", id="vp3d-pr-locked",
                 __properties=[("aria_live", "aria-live")], aria_live="polite")
        for name, (label, unit) in AIM_FIELDS.items():
            slider_id = f"vp3d-pr-{name.replace('_', '-')}"
            _slider_label(label, slider_id)
            v3.VSlider(
                v_model=(f"pr_{name}",),
                min=(f"(pr_ranges.{name} || [0, 1])[0]",),
                max=(f"(pr_ranges.{name} || [0, 1])[1]",),
                step=0.1,
                name=label,  # Vuetify names the slider's thumb (its accessible name) after it
                thumb_label=True,
                density="compact",
                hide_details=True,
                disabled=(BUSY + (" || pr_entry_locked" if name.startswith("entry") else " || pr_locked"),),
                end="trigger('practice_aim', ['" + name + "', $event])",
                keyup=f"utils.get('vp3d').isSliderKey($event) && utils.get('vp3d').later('aim-{name}',"
                      f" () => trigger('practice_aim', ['{name}', pr_{name}]))",
                id=slider_id,
                classes="vp3d-pr-slider",
            )
            html.Div(f"{{{{ Number(pr_{name}).toFixed(1) }}}}{unit} \u00b7 planned "
                     f"{{{{ (pr_planned.{name} ?? 0).toFixed(1) }}}}{unit}",
                     classes="vp3d-pr-value")
        v3.VSwitch(model_value=("pr_show_planned",), label="Show the planned path", density="compact",
                   hide_details=True, color="primary", id="vp3d-pr-planned", disabled=(BUSY,),
                   update_modelValue="trigger('practice_planned', [!!$event])")

        html.H2("Advance", classes="vp3d-practice-h")
        with html.Div(classes="vp3d-pr-row"):
            v3.VBtn("Withdraw {{ Math.min(5, pr_depth_mm) }} mm", variant="tonal", id="vp3d-pr-withdraw", disabled=(BUSY + " || pr_depth_mm <= 0",),
                    click="trigger('practice_advance', [-Math.min(5, pr_depth_mm)])", prepend_icon="mdi-arrow-up")
            for mm in ADVANCE_STEPS_MM:
                v3.VBtn(f"+{mm:g} mm", variant="flat", color="primary", disabled=(BUSY,),
                        click=f"trigger('practice_advance', [{mm:g}])", id=f"vp3d-pr-advance-{mm:g}",
                        __properties=[("aria_label", "aria-label")], aria_label=f"Advance {mm:g} mm")
        v3.VProgressLinear(model_value=("Math.min(100, 100 * pr_depth_mm / Math.max(pr_target_depth_mm, 1))",),
                           height=8, rounded=True, color="primary", classes="my-1",
                           __properties=[("aria_label", "aria-label")], aria_label="Depth towards the target")

        html.H2("C-arm", classes="vp3d-practice-h")
        for view, fields in CARM_SLIDERS.items():
            html.Div("AP view" if view == "ap" else "Lateral view", classes="vp3d-pr-sub")
            for name, (low, high, label) in fields.items():
                slider_id = f"vp3d-pr-carm-{view}-{name.replace('_', '-')}"
                _slider_label(label, slider_id)
                v3.VSlider(
                    v_model=(f"pr_{view}_{name}",), min=low, max=high, step=1,
                    name=f"{'AP' if view == 'ap' else 'Lateral'} view: {label}",
                    thumb_label=True, density="compact", hide_details=True, disabled=(BUSY,),
                    end=f"trigger('practice_carm', ['{view}', '{name}', $event])",
                    keyup=f"utils.get('vp3d').isSliderKey($event) && utils.get('vp3d').later('carm-{view}-{name}',"
                          f" () => trigger('practice_carm', ['{view}', '{name}', pr_{view}_{name}]))",
                    id=slider_id, classes="vp3d-pr-slider",
                )
        html.Div("Images after each move", classes="vp3d-pr-sub")
        with v3.VBtnToggle(model_value=("pr_views",), mandatory=True, density="compact", divided=True,
                           variant="outlined", color="primary", id="vp3d-pr-views", disabled=(BUSY,),
                           update_modelValue="trigger('practice_views', [$event])"):
            for value, text in (("both", "AP + lateral"), ("ap", "AP"), ("lateral", "Lateral")):
                v3.VBtn(text, value=value, id=f"vp3d-pr-views-{value}",
                        __properties=[("aria_pressed", "aria-pressed")],
                        aria_pressed=(f"pr_views === '{value}' ? 'true' : 'false'",))
        with html.Div(classes="vp3d-pr-row mt-1"):
            v3.VBtn("Take AP + lateral now", variant="tonal", size="small", disabled=(BUSY,),
                    click="trigger('practice_shoot', ['both'])", id="vp3d-pr-shoot",
                    prepend_icon="mdi-radioactive")
            html.Span("Images taken: {{ pr_shots }}", classes="vp3d-pr-value", id="vp3d-pr-shots")

        html.H2("Cement", classes="vp3d-practice-h")
        with html.Div(classes="vp3d-pr-row"):
            v3.VBtn("Inject 0.5 mL", prepend_icon="mdi-needle", color="primary", variant="flat",
                    disabled=(BUSY,), click="trigger('practice_inject', [0.5])", id="vp3d-pr-inject")
            html.Span("{{ pr_cement_ml.toFixed(1) }} mL", classes="vp3d-pr-ml", id="vp3d-pr-ml")
        with html.Div(classes="vp3d-pr-row mt-2"):
            v3.VBtn("Finish and score", prepend_icon="mdi-clipboard-check-outline", variant="tonal",
                    disabled=(BUSY,), click="trigger('practice_score')", id="vp3d-pr-score")
            v3.VBtn("Start over", prepend_icon="mdi-restart", variant="text", disabled=(BUSY,),
                    click="trigger('practice_reset')", id="vp3d-pr-reset")


def feedback() -> None:
    """Readouts over the 3D view."""
    with html.Div(v_if="mode === 'practice' && pr_feedback.length", classes="vp3d-overlay vp3d-readouts",
                  id="vp3d-pr-feedback", __properties=[("aria_live", "aria-live")], aria_live="polite"):
        html.Div("{{ line.text }}", v_for="line in pr_feedback", key="line.text",
                 classes=("'vp3d-fb-' + line.kind",))


def alert() -> None:
    """The breach alert (placed by the page above its message, never under it)."""
    v3.VAlert(v_if="mode === 'practice' && pr_alert", text=("pr_alert",), type="error",
              prominent=True, density="compact", id="vp3d-pr-alert", icon="mdi-alert-octagon",
              __properties=[("role", "role")], role="alert")


def guidance() -> None:
    """What to do, in the narration column (clinical language; each note from ``scenes/practice.yaml``)."""
    guide = practice_guide()
    with html.Section(v_if="mode === 'practice'", classes="vp3d-narration", id="vp3d-pr-guide",
                      __properties=[("aria_label", "aria-label")], aria_label="Practice guide", tabindex="0"):
        html.H2(guide.title)
        with html.Ol(classes="vp3d-pr-guide"):
            for step in guide.steps:
                html.Li(step.text + guide.marks(step))
        with html.Div(classes="vp3d-sources"):
            html.Strong("Sources")
            with html.Ol():
                for source in guide.sources:
                    html.Li(guide.citation(source))


def images() -> None:
    """AP and lateral images of the practice; drag on one to aim."""
    with html.Div(v_if="mode === 'practice' && pr_images.length", classes="vp3d-fluoro vp3d-pr-fluoro",
                  id="vp3d-pr-fluoro"):
        with html.Figure(v_for="item in pr_images", key="item.view"):
            html.Img(src=("item.src",), alt=("item.alt",), width=256, height=256, draggable="false",
                     classes=("['vp3d-aim', 'vp3d-pr-' + item.view, item.stale ? 'vp3d-stale' : '']",),
                     __events=[("pointerdown", "pointerdown")],
                     pointerdown="utils.get('vp3d').aimDrag($event, item.view, trigger)")
            html.Figcaption("{{ item.caption }}")


def score_dialog() -> None:
    """The end-of-practice summary against what the literature calls good."""
    with v3.VDialog(model_value=("!!pr_score",), max_width=880, scrollable=True, id="vp3d-pr-score-dialog",
                    update_modelValue="$event || (pr_score = null)"):
        with v3.VCard(v_if="pr_score", id="vp3d-pr-score-card"):
            v3.VCardTitle("Your practice, scored", classes="text-h5")
            # Scrolls when long: focusable so the keyboard can scroll it (WCAG 2.1.1).
            with v3.VCardText(tabindex="0", __properties=[("aria_label", "aria-label"), ("role", "role")],
                              role="region", aria_label="Score details"):
                html.P("{{ pr_score.summary }}", v_if="pr_score.summary", classes="mb-3")
                with html.Ul(classes="vp3d-score-list"):
                    with html.Li(v_for="item in pr_score.items", key="item.name",
                                 classes=("'vp3d-score-item vp3d-score-' + item.verdict.split(' ')[0]",)):
                        with html.Div(classes="vp3d-score-head"):
                            html.H3("{{ item.name.charAt(0).toUpperCase() + item.name.slice(1) }}")
                            html.Span("{{ item.verdict }}",
                                      classes=("'vp3d-verdict vp3d-verdict-' + item.verdict.split(' ')[0]",))
                        with html.Dl():
                            html.Dt("You")
                            html.Dd("{{ item.value }}")
                            html.Dt("Good")
                            html.Dd("{{ item.good }}")
                            html.Dt("Next time", v_if="item.advice")
                            html.Dd("{{ item.advice }}", v_if="item.advice")
                        html.P("{{ item.reference }}", classes="vp3d-ref")
            with v3.VCardActions():
                v3.VSpacer()
                v3.VBtn("Close", click="pr_score = null", id="vp3d-pr-score-close", variant="tonal")
