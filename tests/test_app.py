"""The app layer without a browser: state, highlight, errors at the session boundary, serve()."""

from __future__ import annotations

import itertools

import numpy as np
import pyvista as pv
from trame.app import get_server

from vp3d.app import core, main
from vp3d.app.core import VertebroplastyApp, describe_level
from vp3d.meshes import ScenePart

_names = itertools.count()


def tube(center, *, radius: float, height: float) -> pv.PolyData:
    return pv.Cylinder(center=center, direction=(0, 0, 1), radius=radius, height=height).triangulate()


def small_scene(*, top: str = "T12", bottom: str = "L2") -> list[ScenePart]:
    """Three boxes with discs between them, a cord and a skin: enough to exercise the app."""
    levels = ["T12", "L1", "L2"]
    if top != "T12" or bottom != "L2":
        raise ValueError(f"this stand-in only knows T12..L2, got {top}..{bottom}")
    parts = []
    for i, level in enumerate(levels):
        z = -40.0 * i
        body = pv.Box((-20, 20, -15, 15, z - 12, z + 12)).triangulate()
        parts.append(ScenePart(level, "vertebra", level, body))
        if i + 1 < len(levels):
            name = f"{level}-{levels[i + 1]}"
            disc = tube((0, 0, z - 20), radius=18, height=6)
            parts.append(ScenePart(f"disc {name}", "disc", None, disc))
            nucleus = pv.Sphere(radius=5, center=(0, 0, z - 20))
            parts.append(ScenePart(f"nucleus {name}", "nucleus", None, nucleus))
    parts.append(ScenePart("cord", "cord", None, tube((0, -25, -40), radius=5, height=120)))
    parts.append(ScenePart("skin", "skin", None, tube((0, -20, -40), radius=150, height=140)))
    return parts


def make_app(**kwargs) -> VertebroplastyApp:
    server = get_server(f"vp3d-test-{next(_names)}", client_type="vue3")
    kwargs.setdefault("mesh_loader", small_scene)
    kwargs.setdefault("top", "T12")
    kwargs.setdefault("bottom", "L2")
    app = VertebroplastyApp(server, **kwargs)
    app.state.ready()  # as when the server starts: from now on changes run the handlers
    return app


def color_of(app: VertebroplastyApp, name: str) -> tuple[float, ...]:
    return tuple(np.round(app._actors[name].GetProperty().GetColor(), 3))


def rgb(hex_color: str) -> tuple[float, ...]:
    return tuple(np.round(core._rgb(hex_color), 3))


def test_describe_level():
    assert describe_level("L1") == "1st lumbar vertebra"
    assert describe_level("T12") == "12th thoracic vertebra"
    assert describe_level("T11") == "11th thoracic vertebra"
    assert describe_level("C2") == "2nd cervical vertebra"
    assert describe_level("disc") == "disc"


def test_default_scene_state():
    app = make_app(highlight="L1")
    assert [level["name"] for level in app.state.levels] == ["T12", "L1", "L2"]
    assert app.state.selected_level == "L1"
    assert app.state.scene_ready and not app.state.error_message
    assert app.state.trame__title == core.TITLE
    assert color_of(app, "L1") == rgb(core.SELECTED_COLOR)
    assert color_of(app, "T12") == rgb(core.LOOKS["vertebra"].color)
    assert color_of(app, "disc T12-L1") == rgb(core.LOOKS["disc"].color)
    assert not app._actors["skin"].GetVisibility()
    # The browser only gets float32 points and normals.
    data = app._actors["L1"].GetMapper().GetInput()
    assert data.GetPoints().GetDataType() == 10  # VTK_FLOAT
    assert data.GetPointData().GetNormals() is not None


def test_default_camera_looks_at_the_spine_with_cranial_up():
    app = make_app()
    camera = app.renderer.GetActiveCamera()
    assert np.allclose(camera.GetFocalPoint(), (0, -5, -40), atol=1)
    assert camera.GetViewUp()[2] > 0.9
    assert camera.GetPosition()[0] < 0  # from the patient's left


def test_highlight_follows_selection_and_hover():
    app = make_app()
    with app.state:
        app.state.selected_level = "T12"
    assert color_of(app, "T12") == rgb(core.SELECTED_COLOR)
    assert color_of(app, "L1") == rgb(core.LOOKS["vertebra"].color)
    with app.state:
        app.state.hovered_level = "L2"
    assert color_of(app, "L2") == rgb(core.HOVER_COLOR)
    with app.state:
        app.state.hovered_level = None
    assert color_of(app, "L2") == rgb(core.LOOKS["vertebra"].color)


def test_skin_toggle():
    app = make_app()
    with app.state:
        app.state.show_skin = True
    assert app._actors["skin"].GetVisibility()
    assert app._actors["skin"].GetProperty().GetOpacity() < 0.3


def test_loader_error_is_shown_and_the_session_lives_on():
    calls = []

    def fails_once(**kwargs):
        calls.append(kwargs)
        if len(calls) == 1:
            raise ValueError("valid levels are T1..L5")
        return small_scene(**kwargs)

    app = make_app(mesh_loader=fails_once)
    assert app.state.error_message == "valid levels are T1..L5"
    assert not app.state.scene_ready
    app.reset_camera()  # handlers still answer on an empty scene
    app.load_scene(top="T12", bottom="L2", highlight="L2")
    assert app.state.scene_ready and not app.state.error_message


def test_unexpected_error_is_shown_with_its_type():
    def crashing(**_):
        raise RuntimeError("disk full")

    app = make_app(mesh_loader=crashing)
    assert app.state.error_message == "RuntimeError: disk full"


def test_bad_selection_is_reported_not_raised():
    app = make_app()
    app.select_level("S1")
    assert "S1" in app.state.error_message and "T12, L1, L2" in app.state.error_message
    assert app.state.selected_level == "L1"
    app.select_level("L2")
    assert app.state.selected_level == "L2"


def test_highlight_outside_the_scene_is_reported():
    app = make_app(highlight="L5")
    assert "L5" in app.state.error_message


def test_sessions_do_not_share_state():
    first, second = make_app(), make_app()
    with first.state:
        first.state.selected_level = "T12"
    assert second.state.selected_level == "L1"
    assert color_of(second, "T12") == rgb(core.LOOKS["vertebra"].color)


def test_serve_keeps_running_without_clients_and_prints_the_url(monkeypatch, capsys):
    started = {}

    def fake_start(self, **kwargs):
        started.update(kwargs)
        self.controller.on_server_ready()

    server_class = type(get_server(main.SERVER_NAME, client_type="vue3"))
    monkeypatch.setattr(server_class, "start", fake_start)
    monkeypatch.setattr(server_class, "port", property(lambda self: 8123))
    main.serve("0.0.0.0", 8123, open_browser=False, top="T12", bottom="L2", mesh_loader=small_scene)
    assert started["timeout"] == 0  # trame would otherwise stop once the last tab closes
    assert started["port"] == 8123 and started["host"] == "0.0.0.0"
    assert started["open_browser"] is False
    assert "vp3d running at http://localhost:8123/" in capsys.readouterr().out
