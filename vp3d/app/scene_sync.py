"""Sending the 3-D scene to the browser without redoing the work for meshes that did not change.

trame-vtk describes the whole scene on every view update, twice (a delta for the page, and the
full scene, which the page's view reads when it mounts). For every mesh it exports the
triangles into a new array and md5-hashes it, changed or not: with about thirty meshes that
was most of a story step's server time. A story step or a needle move changes a few meshes (the
fractured level, the needle, the cement); the rest are the same objects, unmodified. So each
session keeps the last description of each mesh and reuses it while VTK's modification time of
the mapper's input and the mapper's colouring are unchanged; the arrays it names stay
registered with the session's context, so the browser can still fetch any of them by hash.
And once the page's view has shown a scene, :class:`SceneSender` sends deltas only.
"""

from __future__ import annotations

import time
from typing import Any

from trame_vtk.modules.vtk.serializers import extract_array_hash, reference_id
from trame_vtk.modules.vtk.serializers.data import polydata_serializer
from trame_vtk.modules.vtk.serializers.registry import SERIALIZERS, register_instance_serializer

#: The attribute of a session's synchronisation context that holds its mesh descriptions.
_STORE = "_vp3d_polydata"


def _key(parent: Any, requested_fields: Any) -> tuple | None:
    """What a mapper's mesh description depends on: the mapper's input (its points, cells and
    arrays, by modification time), the mapper settings that choose the arrays sent, and the
    fields asked for. None where the parent is not a mapper (nothing is kept then).

    The input, not the dataset handed over: trame-vtk passes every mapper input through a new
    surface filter, whose output is a new object with a new time on every update.
    """
    if parent is None or not parent.IsA("vtkMapper"):
        return None
    source = parent.GetInputDataObject(0, 0)
    if source is None:
        return None
    return (reference_id(source), source.GetMTime(), parent.GetScalarVisibility(), parent.GetScalarMode(),
            parent.GetArrayAccessMode(), parent.GetArrayName(), parent.GetArrayId(),
            tuple(requested_fields or ()))


def cached_polydata_serializer(parent, dataset, dataset_id, context, depth, requested_fields=None):
    """trame-vtk's polydata serializer, done again only when the mesh or its mapper changed."""
    key = _key(parent, requested_fields)
    if key is None:
        return polydata_serializer(parent, dataset, dataset_id, context, depth, requested_fields)
    store: dict = context.__dict__.setdefault(_STORE, {})
    kept = store.get(dataset_id)
    if kept is not None and kept[0] == key:
        _, description, arrays = kept
        now = time.time()
        for sha, record in arrays.items():  # keep them fetchable, as a fresh description would
            context.cache_data_array(sha, {**record, "ts": now})
        return description  # the serializers only read what they are given
    description = polydata_serializer(parent, dataset, dataset_id, context, depth, requested_fields)
    if description is None:
        store.pop(dataset_id, None)
        return None
    # The records hold the arrays themselves (the exported triangles among them), so the
    # context does not release them while this description may be sent again.
    arrays = {entry["hash"]: context.data_array_cache[entry["hash"]]
              for entry in extract_array_hash(description)}
    store[dataset_id] = (key, description, arrays)
    return description


def install() -> None:
    """Use the cached serializer for meshes (again: trame-vtk registers its own each time a
    session's rendering protocol starts)."""
    if SERIALIZERS.get("vtkPolyData") is not cached_polydata_serializer:
        register_instance_serializer("vtkPolyData", cached_polydata_serializer)


class SceneSender:
    """A session's view updates: the full scene until the page has shown one, then deltas only.

    trame-vtk's ``update`` publishes a delta and also sets the full scene into the shared state,
    which is sent to the page on every update; but the page's view reads the full scene only
    when it mounts (later full scenes are ignored: it follows the deltas). So once the page
    says it has shown a scene (``scene_on_page``, set by the view's ``afterSceneLoaded``), each
    update describes the scene once, as a delta, and sends nothing twice.
    """

    def __init__(self, view: Any, render_window: Any, state: Any):
        self.view = view
        self.render_window = render_window
        self.state = state

    def update(self, **kwargs: Any) -> None:
        install()
        if not self.state.scene_on_page:
            self.view.update(**kwargs)  # the delta and the full scene, as trame-vtk does
            return
        protocol = self.view.server.protocol
        if not protocol:
            return
        delta = self.view._helper.scene(self.render_window, new_state=False,
                                        widgets=self.view.get_widgets(), orientation_axis=0)
        protocol.publish("trame.vtk.delta", delta)
