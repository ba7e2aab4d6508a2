"""The app layer without a browser: story logic, fluoroscopy panel, audio route, the app's
state and handlers on a real engine model, errors at the session boundary, serve()."""

from __future__ import annotations

import itertools
import math
import wave

import numpy as np
import pytest
from trame.app import get_server

from vp3d.app import audio, main, story
from vp3d.app.core import VertebroplastyApp
from vp3d.app.fluoro_panel import data_url
from vp3d.app.story import Timeline, ViewChoice, check_choice, parse_query, resolve_step

_names = itertools.count()
_MODELS: dict = {}


def cached_factory(choices, progress=None):
    """The real engine model, built once per choice for the whole module."""
    from vp3d.procedure.case import ProcedureModel

    key = (choices.level, choices.grade, choices.kind, choices.procedure)
    if key not in _MODELS:
        _MODELS[key] = ProcedureModel(choices, progress=progress, rows=64)
    return _MODELS[key]


def make_app(**kwargs) -> VertebroplastyApp:
    server = get_server(f"vp3d-test-{next(_names)}", client_type="vue3")
    kwargs.setdefault("model_factory", cached_factory)
    kwargs.setdefault("build_now", True)
    app = VertebroplastyApp(server, **kwargs)
    app.state.ready()  # as when the server starts: from now on changes run the handlers
    return app


@pytest.fixture(autouse=True)
def narration_cache(tmp_path_factory, monkeypatch):
    folder = tmp_path_factory.getbasetemp() / "vp3d-cache"
    monkeypatch.setenv("VP3D_CACHE_DIR", str(folder))
    # The app's logic is tested with espeak-ng, which speaks a step in milliseconds; the
    # neural voice is tested in test_narration_audio.py and in the page (test_voice_browser.py).
    monkeypatch.setenv("VP3D_VOICE_EN", "espeak")


def wait_audio(app: VertebroplastyApp, timeout_s: float = 30.0) -> str:
    import time

    deadline = time.monotonic() + timeout_s
    while not app.state.audio_url and time.monotonic() < deadline:
        time.sleep(0.05)
    return app.state.audio_url


# ------------------------------------------------------------------ story logic


@pytest.mark.parametrize("name, value, expected", [
    ("level", "l2", "L2"), ("grade", "3", 3), ("grade", 1.0, 1), ("kind", "Crush", "crush"),
    ("procedure", "kyphoplasty", "kyphoplasty"), ("audience", "kiosk", "kiosk"),
])
def test_check_choice_accepts(name, value, expected):
    assert check_choice(name, value) == expected


@pytest.mark.parametrize("name, value, words", [
    ("level", "T4", "T5\u2013L5"), ("level", "X9", "T5\u2013L5"), ("grade", "NaN", "1, 2 or 3"),
    ("grade", math.nan, "1, 2 or 3"), ("grade", 2.5, "1, 2 or 3"), ("grade", True, "1, 2 or 3"),
    ("kind", ["wedge"], "wedge"), ("procedure", None, "vertebroplasty"), ("audience", "doctor", "patient"),
])
def test_check_choice_rejects_with_the_valid_values(name, value, words):
    with pytest.raises(ValueError, match=words):
        check_choice(name, value)


def test_parse_query_falls_back_per_bad_value():
    default = ViewChoice()
    req = parse_query("?level=L3&grade=NaN&audience=student&step=cement", default)
    assert req.choice == ViewChoice(level="L3", audience="student")
    assert req.step == "cement"
    assert len(req.messages) == 1 and "grade" in req.messages[0] and "showing 2" in req.messages[0]
    req = parse_query("level=Q1&level=&kind=wedge", default)
    assert req.choice == default and "level" in req.messages[0]
    assert parse_query(["not", "a", "query"], default).messages


def test_resolve_step():
    scene = story.scene_for("vertebroplasty")
    assert resolve_step(scene, None) == (0, None)
    assert resolve_step(scene, 3) == (2, None)
    assert resolve_step(scene, "cement")[0] == scene.ids.index("cement")
    index, message = resolve_step(scene, "nonsense")
    assert index == 0 and "nonsense" in message
    assert resolve_step(scene, 99)[1]


def test_timeline_paused_shows_the_end_and_play_replays():
    scene = story.scene_for("vertebroplasty")
    tl = Timeline(scene)
    tl.go(scene.ids.index("cement"))
    assert tl.values()["cement.ml"] == pytest.approx(3.0)
    tl.set_playing(True)
    assert tl.time_s == 0 and tl.values()["cement.ml"] == 0
    tl.tick(5.0)
    assert 0 < tl.values()["cement.ml"] < 3
    with pytest.raises(ValueError):
        tl.seek(float("nan"))


def test_timeline_plays_on_and_the_loop_wraps():
    scene = story.scene_for("vertebroplasty")
    tl = Timeline(scene, loop=True, speed=100.0)
    tl.set_playing(True)
    seen = []
    for _ in range(2000):
        if tl.tick(0.25):
            seen.append(tl.index)
        if len(seen) > len(scene.steps):
            break
    assert seen[: len(scene.steps)] == [*range(1, len(scene.steps)), 0]
    once = Timeline(scene, speed=100.0)
    once.go(len(scene.steps) - 1)
    once.set_playing(True)
    for _ in range(100):
        once.tick(0.25)
    assert once.index == len(scene.steps) - 1 and not once.playing


def test_source_labels_name_the_file_and_the_reference():
    text = story.step_text(story.scene_for("vertebroplasty").step("cement"), "student",
                           story.context_for(ViewChoice()))
    labels = [s["label"] for s in text["sources"]]
    assert "Vertebroplasty \u2014 Bristol Hospital interventional radiology (file 002_d69a0bc012a0d9ed.txt)" in labels
    assert "Belkoff et al., Spine 2001" in labels
    assert all(s["refs"] for s in text["sentences"])


@pytest.mark.parametrize("audience", ["patient", "kiosk"])
def test_patients_see_titles_and_publishers_not_file_names(audience):
    scene = story.scene_for("vertebroplasty")
    labels = [src["label"] for step in scene.steps
              for src in story.step_text(step, audience, story.context_for(ViewChoice()))["sources"]]
    assert labels and not any(".txt" in label for label in labels)
    assert "Vertebroplasty (Imaging Glossary) \u2014 UR Medicine Imaging, University of Rochester Medical Center" in labels


# ------------------------------------------------------------------ panels and routes


def test_fluoro_data_url_is_a_small_jpeg():
    image = (np.arange(256 * 256) % 251).astype(np.uint8).reshape(256, 256)
    url = data_url(image)
    assert url.startswith("data:image/jpeg;base64,") and len(url) < 80_000
    with pytest.raises(ValueError):
        data_url(np.zeros((4, 4), dtype=float))


def test_audio_route_serves_only_cache_files(tmp_path):
    folder = audio.audio_folder()
    folder.mkdir(parents=True, exist_ok=True)
    good = folder / ("patient-en-piper-en_US_joe_medium-" + "a" * 24 + ".wav")
    good.write_bytes(b"RIFF0000WAVE")
    assert audio.file_for(good.name) == good
    assert audio.url_for(good) == "/audio/" + good.name
    hexes = "a" * 24
    for bad in ("../x.wav", f"patient-en-piper-en_US_joe_medium-{hexes}.mp3", "/etc/passwd",
                f"student-es-espeak-es-{'b' * 24}.wav",  # the right form, but no such file
                f"patient-{hexes}.wav", f"patient-EN-espeak-en-{hexes}.wav",
                f"patient-en-festival-en-{hexes}.wav", f"patient-en-piper-..-{hexes}.wav",
                f"patient-en-piper-a/b-{hexes}.wav", f"patient-en-piper-a.b-{hexes}.wav",
                f"patient-en-piper-{'x' * 49}-{hexes}.wav", None, 7):
        assert audio.file_for(bad) is None
    with pytest.raises(ValueError):
        audio.url_for(tmp_path / good.name)


# ------------------------------------------------------------------ the app


def test_app_starts_on_the_first_step_with_narration_and_sources():
    app = make_app()
    s = app.state
    assert s.scene_ready and not s.building and not s.error_message
    assert s.step_index == 0 and s.step_count == len(story.scene_for("vertebroplasty").steps)
    assert s.step_title and s.sentences and s.sources
    assert {a.GetVisibility() for a in app.scene3d.actors.values()} == {True, False}
    url = wait_audio(app)
    assert url.startswith("/audio/patient-")
    with wave.open(str(audio.file_for(url.rsplit("/", 1)[1]))) as w:
        assert w.getnframes() > 0


def test_steps_change_texts_fluoroscopy_and_meshes():
    app = make_app(audience="student")
    scene = story.scene_for("vertebroplasty")
    titles, fluoro = set(), {}
    for i in range(len(scene.steps)):
        app.go_step(i)
        assert app.state.step_index == i and not app.state.error_message
        titles.add(app.state.step_title)
        if app.state.fluoro:
            fluoro[scene.steps[i].id] = [f["src"] for f in app.state.fluoro]
            assert [f["alt"] for f in app.state.fluoro] == [
                {"ap": "Fluoroscopy AP", "lateral": "Fluoroscopy lateral"}[v] for v in scene.steps[i].fluoro]
    assert len(titles) == len(scene.steps)
    srcs = [tuple(v) for v in fluoro.values()]
    assert len(set(srcs)) == len(srcs), "fluoroscopy must differ between steps"
    app.go_step(scene.ids.index("needle"))
    assert app.scene3d.actors["needle 1"].GetVisibility()
    assert app.scene3d.actors["skin"].GetProperty().GetOpacity() < 0.3  # translucent skin
    assert any("Needle" in line for line in app.state.readouts)


def test_cement_counter_rises_with_the_timeline():
    app = make_app()
    app.go_step(story.scene_for("vertebroplasty").ids.index("cement"))
    assert app.state.show_ml
    shown = []
    for t in (0, 3, 7.5, 15):
        app.seek(t)
        shown.append(float(app.state.cement_ml_text.split()[0]))
    assert shown == sorted(shown) and shown[0] == 0 and shown[-1] == pytest.approx(3.0)
    assert app.state.readouts == []  # patients get no safety readouts


def test_next_previous_and_play():
    app = make_app()
    app.previous_step()
    assert app.state.step_index == 0
    app.next_step()
    app.next_step()
    assert app.state.step_index == 2
    app.previous_step()
    assert app.state.step_index == 1
    app.toggle_play()
    assert app.state.playing
    app.toggle_play()
    assert not app.state.playing


@pytest.mark.parametrize("bad", [float("nan"), "abc", None, [1], {"a": 1}, True, 2.5, -1, 999])
def test_bad_input_from_the_browser_is_a_message(bad):
    app = make_app()
    app.go_step(bad)
    assert "step index must be" in app.state.error_message
    app.state.error_message = ""
    numeric = isinstance(bad, (int, float)) and not isinstance(bad, bool) and bad == bad
    app.seek("x" if numeric else bad)
    assert "number" in app.state.error_message
    app.next_step()  # still alive
    assert app.state.step_index == 1


def test_bad_choice_reverts_with_a_message():
    app = make_app()
    with app.state:
        app.state.level = "Z9"
    assert "level must be one of" in app.state.error_message
    assert app.state.level == "L1" and app.choice.level == "L1"
    with app.state:
        app.state.grade = "NaN"
    assert app.state.grade == 2


def test_audience_change_swaps_narration_without_a_rebuild():
    app = make_app()
    model = app.model
    patient = app.state.step_title
    with app.state:
        app.state.audience = "student"
    assert app.model is model and app.state.step_title != patient
    assert "L1" in app.state.step_title


def test_level_change_rebuilds_and_url_params_apply():
    app = make_app()
    app.apply_url("?level=L2&grade=3&audience=student&step=7")
    assert app.model.choices.level == "L2" and app.model.choices.grade == 3
    assert app.state.step_index == 6 and app.state.audience == "student"
    assert app.state.notices == []
    app.apply_url("?level=Q7&step=bogus")
    assert len(app.state.notices) == 2 and app.model.choices.level == "L1"
    app.apply_url(12)
    assert app.state.notices and not app.state.error_message


def test_language_change_relabels_without_a_rebuild_and_a_bad_one_is_refused():
    app = make_app(lang="es")
    model = app.model
    assert app.lang == "es" and app.state.lang == "es" and app.state.t["next"] == "Paso siguiente"
    assert app.state.step_title == "Su columna" and app.state.scene_title == "La vertebroplastia, explicada"
    with app.state:
        app.state.lang = "en"
    assert app.model is model and app.lang == "en" and app.state.step_title == "Your spine"
    assert app.state.t["next"] == "Next step" and app.state.procedure_options[0]["title"] == "Vertebroplasty"
    with app.state:
        app.state.lang = "klingon"
    assert "language must be one of en or es, got 'klingon'" in app.state.error_message
    assert app.state.lang == "en" and app.lang == "en"
    app.apply_url("?lang=es&procedure=kyphoplasty")
    app.go_step(story.scene_for("kyphoplasty").ids.index("cavity_cement"))
    assert app.state.step_title == "Rellenar el hueco con cemento" and app.state.cement_ml_text == "4,0 mL"
    assert {f["caption"] for f in app.state.fluoro} == {"Rayos X en directo, de frente", "Rayos X en directo, de lado"}


def test_kyphoplasty_has_the_balloon():
    app = make_app(procedure="kyphoplasty", audience="student")
    scene = story.scene_for("kyphoplasty")
    app.go_step(scene.ids.index("balloon"))
    assert app.scene3d.actors["balloon 1"].GetVisibility()
    app.go_step(scene.ids.index("cavity_cement"))
    assert app.state.show_ml and app.state.cement_ml_text == "4.0 mL"


def test_sessions_do_not_share_state():
    first, second = make_app(), make_app()
    first.next_step()
    assert first.state.step_index == 1 and second.state.step_index == 0
    with second.state:
        second.state.audience = "student"
    assert first.state.audience == "patient" and first.choice.audience == "patient"


def test_serve_keeps_running_without_clients_and_prints_the_url(monkeypatch, capsys):
    started = {}

    def fake_start(self, **kwargs):
        started.update(kwargs)
        self.controller.on_server_ready()

    server_class = type(get_server(main.SERVER_NAME, client_type="vue3"))
    monkeypatch.setattr(server_class, "start", fake_start)
    monkeypatch.setattr(server_class, "port", property(lambda self: 8123))
    monkeypatch.setenv("VP3D_PLAY_SPEED", "4")
    main.serve("0.0.0.0", 8123, open_browser=False, level="L1", kiosk=True, model_factory=cached_factory, shared=True)
    assert started["timeout"] == 0  # trame would otherwise stop once the last tab closes
    assert started["port"] == 8123 and started["host"] == "0.0.0.0"
    assert started["open_browser"] is False
    assert "vp3d running at http://localhost:8123/" in capsys.readouterr().out


def test_bad_env_option_is_a_clear_error(monkeypatch):
    monkeypatch.setenv("VP3D_PLAY_SPEED", "fast")
    with pytest.raises(ValueError, match="VP3D_PLAY_SPEED"):
        main._env_options()


# ------------------------------------------------------------------ student modes


def test_modes_follow_the_link_and_the_audience():
    app = make_app()
    app.apply_url("?mode=practice")
    assert app.state.mode == "practice" and app.state.audience == "student"
    assert app.practice.practice is not None and app.state.pr_ready
    assert len(app.state.pr_images) == 2
    app.next_step()  # the story's keys do nothing while practising
    assert app.state.step_index == 0
    with app.state:
        app.state.audience = "patient"
    assert app.state.mode == "story" and not app.state.part_labels
    with app.state:
        app.state.mode = "quiz"  # not for patients: refused, put back, said
    assert app.state.mode == "story" and "student" in app.state.error_message
    request = parse_query("?mode=exam", ViewChoice())
    assert request.mode == "story" and "mode must be one of" in request.messages[0]


def test_every_link_value_ignored_or_changed_is_named():
    """Unknown parameters, the switch to student words for practice and quiz, and the kiosk
    audience on a normal server each get a notice; a plain link gets none."""
    default = ViewChoice()
    assert parse_query("?level=L2&grade=3&audience=student&step=7", default).messages == []
    unknown = parse_query("?foo=1&colour=red&level=L2", default)
    assert unknown.choice.level == "L2" and len(unknown.messages) == 1
    assert "ignored 'colour', 'foo'" in unknown.messages[0] and "reads level" in unknown.messages[0]
    quiz = parse_query("?mode=quiz", default)
    assert quiz.mode == "quiz" and quiz.choice.audience == "student"
    assert quiz.messages == ["Link: the quiz is for students; showing the student words."]
    assert parse_query("?mode=quiz&audience=student", default).messages == []
    kiosk = parse_query("?audience=kiosk", default)
    assert kiosk.choice.audience == "kiosk" and "loops only on a kiosk server" in kiosk.messages[0]
    app = make_app()
    app.apply_url("?mode=practice&colour=blue")
    assert app.state.mode == "practice" and len(app.state.notices) == 2


def test_kiosk_links_cannot_open_a_student_mode():
    app = make_app(kiosk=True)
    app.apply_url("?mode=quiz")
    assert app.state.mode == "story" and not app.state.error_message
    assert any("kiosk plays the story" in m for m in app.state.notices)


def test_practice_handlers_move_the_needle_and_refuse_bad_values():
    app = make_app(audience="student")
    with app.state:
        app.state.mode = "practice"
    shots = app.state.pr_shots
    app.server.controller.trigger_fn("practice_advance")(5)
    assert app.state.pr_depth_mm == 5 and app.state.pr_shots == shots + 2
    assert "needle 1" in app.scene3d.actors
    app.server.controller.trigger_fn("practice_advance")(float("nan"))
    assert "number" in app.state.error_message and app.state.pr_depth_mm == 5
    app.server.controller.trigger_fn("practice_aim")("medial_deg", 1e9)
    assert "medial_deg" in app.state.error_message
    app.server.controller.trigger_fn("practice_advance")(1, 2)
    assert "takes" in app.state.error_message
    app.server.controller.trigger_fn("practice_views")("lateral")
    shots = app.state.pr_shots
    app.server.controller.trigger_fn("practice_advance")(5)
    assert app.state.pr_shots == shots + 1
    assert any(i["stale"] for i in app.state.pr_images if i["view"] == "ap")
    app.server.controller.trigger_fn("practice_score")()
    assert [i["name"] for i in app.state.pr_score["items"]][0] == "pedicle breach"


def test_practice_restarts_on_the_new_model_after_a_choice_change():
    app = make_app(audience="student")
    with app.state:
        app.state.mode = "practice"
    app.server.controller.trigger_fn("practice_advance")(10)
    with app.state:
        app.state.mode = "story"
        app.state.grade = 3
    assert app.model.choices.grade == 3
    with app.state:
        app.state.mode = "practice"
    assert app.practice.practice.model is app.model  # not the grade-2 practice of before
    assert app.state.pr_depth_mm == 0 and not app.state.error_message
    app.server.controller.trigger_fn("practice_advance")(5)
    assert app.state.pr_depth_mm == 5 and not app.state.error_message


def test_no_narration_outside_the_story():
    app = make_app(audience="student")
    assert wait_audio(app)
    with app.state:
        app.state.mode = "quiz"
    assert app.state.audio_url == ""
    with app.state:
        app.state.level = "L2"  # a rebuild while in the quiz queues no story narration
    import time

    time.sleep(1.0)
    assert app.state.audio_url == ""


def test_kiosk_audience_and_mode_are_fixed():
    app = make_app(kiosk=True)
    with app.state:
        app.state.audience = "student"
    assert app.state.audience == "kiosk" and "kiosk" in app.state.error_message
    with app.state:
        app.state.mode = "practice"
    assert app.state.mode == "story"


def _orbit_step(app) -> int:
    steps = app.timeline.scene.steps
    return next(i for i, step in enumerate(steps) if any(a.param == "camera.orbit_deg" for a in step.animate))


def _camera_after(app, seconds: float) -> tuple:
    app.seek(seconds)
    return tuple(round(v, 3) for v in app.scene3d.renderer.GetActiveCamera().GetPosition())


def test_the_camera_orbits_unless_the_viewer_asks_for_less_motion():
    app = make_app()
    app.go_step(_orbit_step(app))
    assert _camera_after(app, 0.0) != _camera_after(app, 8.0)  # it orbits by default
    app.motion_preference(True)
    assert app.state.reduced_motion is True and not app.state.error_message
    assert _camera_after(app, 0.0) == _camera_after(app, 8.0) == _camera_after(app, 15.0)
    app.motion_preference("yes")
    assert "reduced motion must be true or false" in app.state.error_message
    assert app.player.reduced_motion is True  # a refused value changes nothing


def test_start_again_goes_to_the_first_step_and_plays():
    app = make_app(kiosk=True)
    app.go_step(5)
    app.toggle_play()
    assert app.state.step_index == 5 and not app.state.playing
    app.start_again()
    assert app.state.step_index == 0 and app.state.playing and app.timeline.time_s == 0.0
    assert app.state.step_title == story.step_text(app.timeline.scene.steps[0], "patient",
                                                   story.context_for(app.choice))["title"]


@pytest.mark.parametrize("side, dx", [("right", 0.2), ("left", -0.2)])
def test_drag_towards_the_midline_on_ap_turns_the_needle_medially(side, dx):
    """AP is seen from the source: the patient's right on the viewer's left, so the midline is
    to the viewer's right of a right needle and to the left of a left one."""
    app = make_app(audience="student")
    with app.state:
        app.state.mode = "practice"
    trigger = app.server.controller.trigger_fn
    trigger("practice_side")(side)
    medial, caudal = app.state.pr_medial_deg, app.state.pr_caudal_deg
    trigger("practice_drag")("ap", dx, 0.0)
    assert app.state.pr_medial_deg > medial and app.state.pr_caudal_deg == caudal
    trigger("practice_drag")("lateral", 0.0, 0.1)  # down on lateral: the tip goes caudal
    assert app.state.pr_caudal_deg > caudal
    trigger("practice_drag")("ap", 9, 0)
    assert "fraction" in app.state.error_message


def test_tip_through_the_front_wall_raises_the_alert():
    app = make_app(audience="student")
    with app.state:
        app.state.mode = "practice"
    trigger = app.server.controller.trigger_fn("practice_advance")
    target = app.state.pr_target_depth_mm
    while app.state.pr_depth_mm + 10 <= target + 20:
        trigger(10)
    assert not app.state.error_message
    assert "front wall" in app.state.pr_alert


def test_practice_route_is_planned_at_thoracic_levels_only():
    """The page offers the parapedicular route at thoracic levels; a lumbar request or a bad
    value gets a message and the route stays; at T8 an unplanned lateral breach warns of the
    pleura, a planned one is reported as planned."""
    app = make_app(audience="student")
    with app.state:
        app.state.mode = "practice"
    trigger = app.server.controller.trigger_fn
    assert app.state.pr_parapedicular_ok is False and app.state.pr_route == "transpedicular"
    trigger("practice_route")("parapedicular")
    assert "only at thoracic levels" in app.state.error_message and app.state.pr_route == "transpedicular"
    trigger("practice_route")({"x": 1})
    assert "route must be one of" in app.state.error_message
    with app.state:
        app.state.level = "T8"
    assert app.state.pr_parapedicular_ok is True
    trigger("practice_aim")("medial_deg", app.state.pr_medial_deg - 8.0)
    while "pedicle wall breached" not in app.state.pr_alert and app.state.pr_depth_mm < app.state.pr_target_depth_mm:
        trigger("practice_advance")(2)
    assert "Lateral pedicle wall breached" in app.state.pr_alert and "pleura" in app.state.pr_alert
    trigger("practice_route")("parapedicular")
    assert "withdraw it fully" in app.state.error_message
    trigger("practice_reset")()
    medial_before = app.state.pr_medial_deg
    trigger("practice_route")("parapedicular")
    assert app.state.pr_route == "parapedicular"
    assert app.state.pr_medial_deg > medial_before + 5.0  # the aim follows the new plan beside the pedicle
    seen = []
    while app.state.pr_depth_mm < app.state.pr_target_depth_mm - 2:
        trigger("practice_advance")(2)
        seen += [line["text"] for line in app.state.pr_feedback]
        assert "Lateral pedicle wall breached" not in app.state.pr_alert
    assert "Lateral to the pedicle, as planned for the parapedicular route" in seen


def test_cement_in_a_vein_raises_stop_or_pause():
    app = make_app(audience="student")
    with app.state:
        app.state.mode = "practice"
    trigger = app.server.controller.trigger_fn
    depth = app.state.pr_target_depth_mm - 16.0  # the middle of the body, by the basivertebral vein
    while app.state.pr_depth_mm + 2 <= depth:
        trigger("practice_advance")(2)
    for _ in range(12):
        trigger("practice_inject")(0.5)
        if "vein" in app.state.pr_alert:
            break
    assert not app.state.error_message
    assert "stop or pause the injection" in app.state.pr_alert and "Yeom type" in app.state.pr_alert
    assert any("Yeom type" in line["text"] for line in app.state.pr_feedback)


def test_students_can_show_the_body_around_the_spine():
    app = make_app(audience="student")
    assert app.scene3d.groups["lung"] == "lungs" and app.scene3d.groups["rib"] == "ribs"
    app.go_step(1)  # a step that keeps the body hidden
    assert not app.state.error_message
    hidden = {n: a.GetVisibility() for n, a in app.scene3d.actors.items() if n in ("lung", "organ", "vessel")}
    assert hidden and not any(hidden.values()), hidden
    with app.state:
        app.state.show_body = True
    shown = {n: a.GetVisibility() for n, a in app.scene3d.actors.items() if n in ("lung", "organ", "vessel")}
    assert len(shown) == 3 and all(shown.values()), shown
    assert app.scene3d.actors["lung"].GetProperty().GetOpacity() < 0.5  # faint, never hiding the spine
    with app.state:
        app.state.part_labels = True  # the name tags include the body's parts while shown
    names = {a["name"] for a in app.state.part_anchors}
    assert {"Lung", "Ribs", "Heart and aorta", "Liver and kidney"} <= names, names
    with app.state:
        app.state.show_body = "yes"
    assert "on or off" in app.state.error_message and app.state.show_body is False
    names = {a["name"] for a in app.scene3d.label_anchors()}
    assert "Lung" not in names and "Ribs" not in names  # hidden again: no tags
