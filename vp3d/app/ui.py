"""Layout of the vp3d page: widgets bound to the state and controller of :mod:`vp3d.app.core`.

Only layout lives here. Text (level names, labels, messages) is plain Vuetify/HTML: the 3D view
renders client-side with vtk.js, which drops VTK text actors.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from trame.ui.vuetify3 import SinglePageLayout
from trame.widgets import html
from trame.widgets import vtk as vtk_widgets
from trame.widgets import vuetify3 as v3

if TYPE_CHECKING:
    from vp3d.app.core import VertebroplastyApp

VIEW_REF = "vp3d_view"

THEME = {
    "theme": {
        "defaultTheme": "vp3d",
        "themes": {
            "vp3d": {
                "dark": True,
                "colors": {
                    "background": "#1d232c",
                    "surface": "#252d38",
                    "primary": "#e39b2d",
                    "secondary": "#9db9d8",
                    "error": "#e57373",
                },
            }
        },
    }
}

# Overlays on the 3D view: semi-opaque cards that leave the view visible around them.
_OVERLAY = "position: absolute; z-index: 2; background: rgba(37, 45, 56, 0.88);"

_CHIP_COLOR = (
    "level.name === selected_level ? selected_color"
    " : (level.name === hovered_level ? hover_color : undefined)"
)


def build_ui(app: VertebroplastyApp) -> SinglePageLayout:
    """Lay out the page for ``app`` and wire the view's methods into its controller."""
    ctrl = app.ctrl
    with SinglePageLayout(app.server, vuetify_config=THEME) as layout:
        layout.root.theme = "vp3d"
        layout.icon.hide()
        layout.footer.hide()
        layout.title.set_text("")
        with layout.title:
            v3.VIcon("mdi-bone", classes="mr-2", color="primary")
            html.Span("{{ app_title }}", id="vp3d-title")

        with layout.toolbar as toolbar:
            toolbar.density = "compact"
            toolbar.elevation = 1
            v3.VSpacer()
            v3.VSwitch(
                v_model=("show_skin", False),
                label="Skin",
                color="primary",
                density="compact",
                hide_details=True,
                inset=True,
                classes="mx-4 flex-grow-0",
            )
            with v3.VBtn(
                icon=True,
                click=ctrl.reset_camera,
                title="Reset the view",
                id="vp3d-reset-view",
                variant="text",
            ):
                v3.VIcon("mdi-crop-free")

        with layout.content:
            with v3.VContainer(fluid=True, classes="pa-0 fill-height", style="position: relative;"):
                # No vtk.js picking here: in headless Chromium a hardware-selector pick (hover or
                # click mode) left the view unable to rotate afterwards. Levels are named and
                # highlighted from the level bar instead.
                with html.Div(style="position: absolute; inset: 0;", id="vp3d-view"):
                    view = vtk_widgets.VtkLocalView(
                        app.render_window,
                        ref=VIEW_REF,
                        style="width: 100%; height: 100%;",
                    )
                    ctrl.view_update = view.update
                    ctrl.view_push_camera = view.push_camera

                _level_bar()
                _selected_card()
                _legend()
                _error_banner()
    return layout


def _level_bar() -> None:
    """Levels from top to bottom: hover to preview, click to select."""
    with v3.VCard(
        v_if="levels.length",
        style=_OVERLAY + "top: 12px; left: 12px; padding: 8px 6px;",
        id="vp3d-levels",
        elevation=2,
        rounded="lg",
    ):
        html.Div("Levels", classes="text-caption text-medium-emphasis text-center mb-1")
        with html.Div(classes="d-flex flex-column align-center", style="gap: 4px;"):
            v3.VChip(
                "{{ level.name }}",
                v_for="level in levels",
                key="level.name",
                title=("level.title",),
                color=(_CHIP_COLOR,),
                variant=("level.name === selected_level ? 'flat' : 'tonal'",),
                size="small",
                label=True,
                classes="vp3d-level justify-center",
                style="min-width: 48px; cursor: pointer;",
                mouseenter="hovered_level = level.name",
                mouseleave="hovered_level = null",
                click="selected_level = level.name",
            )


def _selected_card() -> None:
    with v3.VCard(
        v_if="selected_level",
        style=_OVERLAY + "top: 12px; right: 12px; max-width: 280px;",
        id="vp3d-selected",
        elevation=2,
        rounded="lg",
    ):
        with v3.VCardItem():
            v3.VCardTitle("{{ selected_level }}", classes="text-primary")
            v3.VCardSubtitle("{{ (levels.find(l => l.name === selected_level) || {}).title }}")


def _legend() -> None:
    with v3.VCard(
        style=_OVERLAY + "bottom: 12px; left: 12px; padding: 8px 12px;",
        id="vp3d-legend",
        elevation=2,
        rounded="lg",
    ):
        with html.Div(
            v_for="item in legend", key="item.label", classes="d-flex align-center text-caption"
        ):
            html.Span(
                style=(
                    "{ background: item.color, display: 'inline-block', width: '12px', height: '12px',"
                    " borderRadius: '3px', marginRight: '8px' }",
                ),
            )
            html.Span("{{ item.label }}")


def _error_banner() -> None:
    v3.VAlert(
        v_if="error_message",
        text=("error_message",),
        type="error",
        closable=True,
        density="compact",
        id="vp3d-error",
        style=(
            "position: absolute; z-index: 3; top: 12px; left: 50%;"
            " transform: translateX(-50%); max-width: 640px;"
        ),
        click_close="error_message = ''",
    )
