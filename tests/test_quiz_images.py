"""Scenario images of the quiz: drawn by the engine, distinct per view and needle, cached once."""

from __future__ import annotations

import dataclasses
import subprocess
import sys
import threading

import numpy as np
import pytest

from vp3d.quiz.questions import ImageSpec, NeedleSpec, load_quiz
from vp3d.quiz.images import ScenarioImages, check_spec, describe_view, render_view, scene_key

ROWS = 64  # small and coarse: the whole file runs in a few seconds
SPACING_MM = 1.5

PLANNED = ImageSpec(("ap", "lateral"), NeedleSpec("L1", "right", 0.0, 0.0, 0.73), "L1")
MEDIAL = dataclasses.replace(PLANNED, needle=NeedleSpec("L1", "right", 12.0, 0.0, 0.73))
FRACTURE = ImageSpec(("lateral",), None, "L1", 3, "wedge")


@pytest.fixture(scope="module")
def images():
    return ScenarioImages(rows=ROWS, spacing_mm=SPACING_MM)


def _not_blank(image: np.ndarray) -> bool:
    # A real radiograph: a spread of greys, not one flat value or pure noise around one.
    return image.std() > 10 and np.percentile(image, 95) - np.percentile(image, 5) > 40


def test_images_are_drawn_small_grey_and_not_blank(images):
    for view in PLANNED.views:
        image = images.image(PLANNED, view)
        assert image.dtype == np.uint8 and image.shape == (ROWS, ROWS)
        assert _not_blank(image), (view, image.std())
        assert not image.flags.writeable  # shared between sessions: nobody may change it


def test_ap_and_lateral_differ(images):
    ap, lateral = images.image(PLANNED, "ap"), images.image(PLANNED, "lateral")
    assert np.abs(ap.astype(float) - lateral.astype(float)).mean() > 10


def test_medially_steered_needle_differs_from_the_planned_one(images):
    for view in ("ap", "lateral"):
        planned = images.image(PLANNED, view).astype(float)
        medial = images.image(MEDIAL, view).astype(float)
        changed = np.abs(planned - medial) > 30
        # The needle moved: a real patch of pixels changed, not the whole image.
        assert 5 <= changed.sum() < 0.5 * changed.size, (view, changed.sum())


def test_fracture_scenario_is_drawn_and_differs_from_the_intact_level(images):
    broken = images.image(FRACTURE, "lateral")
    assert _not_blank(broken)
    intact = dataclasses.replace(FRACTURE, grade=1)
    assert np.abs(broken.astype(float) - images.image(intact, "lateral").astype(float)).mean() > 1


def test_each_image_is_rendered_once_even_with_concurrent_callers():
    images = ScenarioImages(rows=32, spacing_mm=2.0)
    spec = dataclasses.replace(PLANNED, views=("ap",))
    got: list[np.ndarray] = []
    threads = [threading.Thread(target=lambda: got.append(images.image(spec, "ap"))) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(got) == 4 and all(g is got[0] for g in got)
    assert images.renders == 1
    assert images.cached(spec, "ap") is got[0] and images.cached(spec, "lateral") is None
    assert images.image(spec, "ap") is got[0] and images.renders == 1
    # Volumes are dropped only when every view asked for is rendered; the images stay.
    assert images.scenes_kept == 1
    assert images.release_scenes([PLANNED]) == 0 and images.scenes_kept == 1  # lateral not yet
    assert images.release_scenes([spec]) == 1 and images.scenes_kept == 0
    assert images.image(spec, "ap") is got[0] and images.renders == 1


def test_scenarios_of_one_level_share_the_volume():
    assert scene_key(PLANNED) == scene_key(MEDIAL) != scene_key(FRACTURE)


@pytest.mark.parametrize("spec, message", [
    ("ap", "must be a vp3d.quiz.questions.ImageSpec"),
    (None, "must be a vp3d.quiz.questions.ImageSpec"),
    (dataclasses.replace(PLANNED, views=("oblique",)), "views"),
    (dataclasses.replace(PLANNED, views=()), "views"),
    (dataclasses.replace(PLANNED, views=("ap", "ap")), "views"),
    (dataclasses.replace(PLANNED, needle=NeedleSpec("L9")), "needle level"),
    (dataclasses.replace(PLANNED, needle=NeedleSpec("L1", "up")), "needle side"),
    (dataclasses.replace(PLANNED, needle=NeedleSpec("L1", medial_deg=90.0)), "medial_deg"),
    (dataclasses.replace(PLANNED, needle=NeedleSpec("L1", caudal_deg=float("nan"))), "caudal_deg"),
    (dataclasses.replace(PLANNED, needle=NeedleSpec("L1", depth=1.5)), "depth"),
    (dataclasses.replace(PLANNED, needle=NeedleSpec("L1", depth=True)), "depth"),
    (dataclasses.replace(PLANNED, needle=NeedleSpec("L2")), "differs from the needle"),
    (dataclasses.replace(FRACTURE, grade=4), "grade"),
    (dataclasses.replace(FRACTURE, kind="shattered"), "kind"),
    (dataclasses.replace(FRACTURE, cement_ml=-1.0), "cement_ml"),
    (dataclasses.replace(FRACTURE, level="Q3"), "level"),
    (ImageSpec(("ap",)), "needs a level"),
])
def test_bad_spec_is_a_value_error(images, spec, message):
    with pytest.raises(ValueError, match=message) as err:
        images.image(spec, "ap")
    assert "\n" not in str(err.value)
    with pytest.raises(ValueError, match=message):
        render_view(spec, "ap", rows=ROWS, spacing_mm=SPACING_MM)


def test_bad_view_is_a_value_error(images):
    with pytest.raises(ValueError, match="view must be one of this image's views"):
        images.image(FRACTURE, "ap")
    with pytest.raises(ValueError, match="view"):
        images.image(PLANNED, ["ap"])
    with pytest.raises(ValueError, match="rows"):
        ScenarioImages(rows=0)


def test_every_quiz_scenario_is_valid_and_described_without_its_answer():
    quiz = load_quiz()
    scenarios = [q for q in quiz.questions if q.is_scenario]
    assert scenarios
    for q in scenarios:
        check_spec(q.image)
        for view in q.image.views:
            text = describe_view(q.image, view)
            assert text[0].isupper() and ("AP" in text or "Lateral" in text), text
            answer = q.choices[q.answer].lower()
            for giveaway in ("breach", "canal", "grade", "target", "safe"):
                assert giveaway not in text.lower() or giveaway not in answer, (q.id, text)


def test_module_imports_no_ui():
    code = ("import sys, vp3d.quiz.images\n"
            "bad = [m for m in sys.modules if m.split('.')[0] in ('trame', 'trame_vtk', 'trame_vuetify', 'wslink')]\n"
            "print(bad); sys.exit(1 if bad else 0)")
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert r.returncode == 0, r.stdout + r.stderr
