"""The session's mesh cache: the browser gets the same scene description, with less work."""

from __future__ import annotations

import numpy as np
import pyvista as pv
import pytest
from trame_vtk.modules.vtk.serializers import (
    SynchronizationContext,
    extract_array_hash,
    initialize_serializers,
    serialize,
)
from trame_vtk.modules.vtk.serializers.registry import SERIALIZERS
from vtkmodules.vtkRenderingCore import vtkActor, vtkPolyDataMapper, vtkRenderer, vtkRenderWindow

from vp3d.app import scene_sync


def _scene():
    """A window with two meshes, as a session's scene holds them (one data object per actor)."""
    renderer, window = vtkRenderer(), vtkRenderWindow()
    window.SetOffScreenRendering(1)
    window.AddRenderer(renderer)
    meshes = []
    for centre in ((0, 0, 0), (3, 0, 0)):
        mesh = pv.Sphere(center=centre, theta_resolution=12, phi_resolution=12)
        mesh.point_data["Normals"] = mesh.point_normals
        mapper = vtkPolyDataMapper()
        mapper.SetInputData(mesh)
        mapper.ScalarVisibilityOff()
        actor = vtkActor()
        actor.SetMapper(mapper)
        renderer.AddActor(actor)
        meshes.append(mesh)
    return window, meshes


def _datasets(description):
    """Every mesh description in a serialised scene, by id."""
    found = {}

    def walk(node):
        if node.get("type") == "vtkPolyData":
            found[node["id"]] = node
        for child in node.get("dependencies", []):
            walk(child)

    walk(description)
    return found


def _describe(window, context, cached: bool):
    initialize_serializers()
    if cached:
        scene_sync.install()
    context.set_ignore_last_dependencies(True)  # the full scene, as a page that loads gets it
    try:
        return serialize(None, window, "view", context, 1)
    finally:
        context.set_ignore_last_dependencies(False)
        initialize_serializers()


@pytest.fixture
def scene():
    return _scene()


def test_install_registers_the_cached_serializer_after_trame_resets_it():
    initialize_serializers()  # what each session's rendering protocol does when it starts
    assert SERIALIZERS["vtkPolyData"] is not scene_sync.cached_polydata_serializer
    scene_sync.install()
    assert SERIALIZERS["vtkPolyData"] is scene_sync.cached_polydata_serializer
    initialize_serializers()


def test_cached_description_matches_trame_vtk(scene):
    window, _ = scene
    plain = _datasets(_describe(window, SynchronizationContext(), cached=False))
    context = SynchronizationContext()
    first = _datasets(_describe(window, context, cached=True))
    again = _datasets(_describe(window, context, cached=True))
    assert len(plain) == 2
    assert first == plain and again == plain
    # The second description is the kept one, not made again.
    assert all(again[key] is first[key] for key in first)


def test_every_named_array_stays_fetchable(scene):
    window, meshes = scene
    context = SynchronizationContext()
    _describe(window, context, cached=True)
    description = _describe(window, context, cached=True)
    hashes = [entry["hash"] for entry in extract_array_hash(description)]
    assert len(hashes) >= 6  # points, triangles and normals of each mesh
    for sha in hashes:
        assert context.get_cached_data_array(sha, binary=True)
    # Minutes later (the context releases arrays unused for 20 s), the next description
    # registers them again before the clean-up that follows every description.
    for record in context.data_array_cache.values():
        record["ts"] -= 600
    _describe(window, context, cached=True)
    context.check_for_arrays_to_release()
    for sha in hashes:
        assert context.get_cached_data_array(sha, binary=True)


def test_a_changed_mesh_is_described_again(scene):
    window, meshes = scene
    context = SynchronizationContext()
    before = _datasets(_describe(window, context, cached=True))
    moved = meshes[0]
    moved.points = np.asarray(moved.points) + np.array([0.0, 0.0, 5.0])  # the collapse moves points
    after = _datasets(_describe(window, context, cached=True))
    changed = [key for key in before if after[key]["properties"]["points"]["hash"]
               != before[key]["properties"]["points"]["hash"]]
    assert len(changed) == 1
    plain = _datasets(_describe(window, SynchronizationContext(), cached=False))
    assert after == plain


def test_mapper_colouring_change_is_described_again(scene):
    window, meshes = scene
    context = SynchronizationContext()
    colours = np.zeros((meshes[1].n_points, 3), dtype=np.uint8)
    meshes[1].point_data["PartColors"] = colours
    before = _datasets(_describe(window, context, cached=True))
    mapper = window.GetRenderers().GetFirstRenderer().GetActors().GetLastActor().GetMapper()
    mapper.ScalarVisibilityOn()  # labels on: the mapper colours by a point array
    mapper.SetScalarModeToUsePointFieldData()
    mapper.SelectColorArray("PartColors")
    after = _datasets(_describe(window, context, cached=True))
    plain = _datasets(_describe(window, SynchronizationContext(), cached=False))
    assert after == plain
    assert after != before
