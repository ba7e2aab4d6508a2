"""The per-choice engine state the app drives: frames, images and checked choices."""

from __future__ import annotations

import numpy as np
import pytest

from vp3d.geometry.contour import is_closed_manifold
from vp3d.procedure.case import Choices, ProcedureModel


@pytest.fixture(scope="module")
def model():
    return ProcedureModel(Choices(level="L2", grade=3, kind="wedge"), rows=128)


def test_choices_are_checked():
    for kwargs, msg in (({"level": "L7"}, "level must be one of T5"), ({"level": "T2"}, "level must be one of T5"),
                        ({"grade": 5}, "grade must be 1, 2 or 3"), ({"kind": "burst"}, "type must be"),
                        ({"procedure": "fusion"}, "procedure must be"), ({"grade": True}, "grade")):
        with pytest.raises(ValueError, match=msg):
            Choices(**kwargs)


def test_frames_follow_the_story(model):
    intact = model.frame({})
    broken = model.frame({"fracture.t": 1.0})
    v = model.spine.vertebrae["L2"]
    inv = np.linalg.inv(v.transform)

    def front_height(mesh):  # anterior third of the body, in the vertebra's own frame
        local = mesh.points @ inv[:3, :3].T + inv[:3, 3]
        front = local[local[:, 1] > v.morphometry.endplate_depth_mm / 6]
        return np.ptp(front[:, 2])

    assert front_height(broken.meshes["L2"]) < 0.7 * front_height(intact.meshes["L2"])
    assert broken.transforms and all(np.allclose(m[:3, :3] @ m[:3, :3].T, np.eye(3))
                                     for m in broken.transforms.values())
    half = model.frame({"fracture.t": 1.0, "needle.depth": 0.5})
    full = model.frame({"fracture.t": 1.0, "needle.depth": 1.0})
    assert {"needle 1", "needle 2"} <= set(full.meshes)
    assert full.safety.safe and full.safety.tip_to_target_mm < half.safety.tip_to_target_mm
    c = model.frame({"fracture.t": 1.0, "needle.depth": 1.0, "cement.ml": 3.0})
    assert is_closed_manifold(c.meshes["cement"]) and c.cement_ml == 3.0


def test_fluoroscopy_changes_with_needle_and_cement(model):
    base = {"fracture.t": 1.0}
    imgs = [model.fluoroscopy(dict(base, **extra), "lateral").astype(float) for extra in
            ({}, {"needle.depth": 0.6}, {"needle.depth": 1.0}, {"needle.depth": 1.0, "cement.ml": 3.0})]
    for a, b in zip(imgs, imgs[1:]):
        assert np.abs(a - b).mean() > 0.2
    assert imgs[-1].mean() < imgs[-2].mean()  # cement darkens the image
    with pytest.raises(ValueError, match="view must be"):
        model.fluoroscopy(base, "oblique")


def test_inflated_balloons_show_on_fluoroscopy():
    kypho = ProcedureModel(Choices(level="L1", procedure="kyphoplasty"), rows=96)
    base = {"fracture.t": 1.0, "needle.depth": 1.0}
    empty = kypho.fluoroscopy(base, "ap").astype(float)
    full = kypho.fluoroscopy(dict(base, **{"balloon.fill_ml": 3.0}), "ap").astype(float)
    assert full.mean() < empty.mean() - 0.3  # contrast-filled balloons darken the image


def test_sessions_on_one_model_share_each_frame(model):
    """Two sessions asking for the same step get the frame computed once, and it is the frame
    that computing it afresh gives."""
    state = {"fracture.t": 1.0, "needle.depth": 0.75, "cement.ml": 1.5}
    first = model.frame(state)
    computed = model.frames_computed
    # The second session's state differs only in what the frame does not read (the camera).
    second = model.frame({**state, "camera.orbit_deg": 30.0})
    assert model.frames_computed == computed
    assert second is not first and second.meshes is not first.meshes  # its own dicts...
    assert all(second.meshes[k] is first.meshes[k] for k in first.meshes)  # ...shared meshes
    fresh = model._compute_frame(state)
    assert sorted(fresh.meshes) == sorted(second.meshes)
    for name, mesh in fresh.meshes.items():
        assert np.array_equal(mesh.points, second.meshes[name].points), name
    assert sorted(fresh.transforms) == sorted(second.transforms)
    assert all(np.array_equal(fresh.transforms[k], second.transforms[k]) for k in fresh.transforms)
    assert (fresh.fracture_t, fresh.cement_ml) == (second.fracture_t, second.cement_ml)
    assert fresh.safety == second.safety
    assert [(leak.kind, leak.volume_ml) for leak in fresh.leaks] == \
        [(leak.kind, leak.volume_ml) for leak in second.leaks]
    model.frame({**state, "needle.depth": 0.5})
    assert model.frames_computed == computed + 1  # another state is another frame


def test_fluoro_panels_on_one_model_share_images(model):
    """Each step's images are taken and encoded once per model, whichever session asks."""
    from vp3d.app.fluoro_panel import FluoroPanel, data_url, shared_images

    values = {"fracture.t": 1.0, "needle.depth": 0.6}
    one, two = FluoroPanel(model), FluoroPanel(model)
    taken = shared_images(model).made
    first = one.images(values, ("ap", "lateral"), "student")
    assert shared_images(model).made == taken + 2
    second = two.images(values, ("ap", "lateral"), "patient")
    assert shared_images(model).made == taken + 2  # nothing taken again
    assert [i["src"] for i in second] == [i["src"] for i in first]
    assert [i["caption"] for i in second] != [i["caption"] for i in first]  # texts stay per audience
    assert first[0]["src"] == data_url(model.fluoroscopy(values, "ap"))  # the image itself
