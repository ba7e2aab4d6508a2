"""Fluoroscopy images for the page: engine images as small JPEG data URLs, cached per state.

The engine's :meth:`vp3d.procedure.case.ProcedureModel.fluoroscopy` answers a storyboard state in
milliseconds; the page gets each view as a ``data:image/jpeg`` URL of a few kilobytes, so it
updates live as the needle moves and the cement flows without any extra HTTP route.
"""

from __future__ import annotations

import base64
import io
from collections import OrderedDict
from typing import Any, Mapping

import numpy as np
from PIL import Image

from vp3d.i18n import DEFAULT_LANGUAGE, N_, gettext_for

#: The images' names: ``alt`` and ``patient`` are translated (:mod:`vp3d.i18n`), the student
#: captions are clinical terms and stay English.
VIEW_LABELS = {
    "ap": {"alt": N_("Fluoroscopy AP"), "student": "AP (anteroposterior)",
           "patient": N_("Live X-ray from the front")},
    "lateral": {"alt": N_("Fluoroscopy lateral"), "student": "Lateral",
                "patient": N_("Live X-ray from the side")},
}
#: Parameters that change the X-ray; the camera orbit does not.
XRAY_PARAMS = ("fracture.t", "needle.depth", "cement.ml", "balloon.fill_ml", "kyphoplasty.restore")


def data_url(image: np.ndarray, *, quality: int = 82) -> str:
    """``image`` (uint8 grey, rows x cols) as a ``data:image/jpeg;base64,...`` URL."""
    arr = np.asarray(image)
    if arr.dtype != np.uint8 or arr.ndim != 2:
        raise ValueError(f"fluoroscopy image must be 2-D uint8, got {arr.dtype} {arr.shape}")
    buf = io.BytesIO()
    Image.fromarray(arr, mode="L").save(buf, format="JPEG", quality=quality)
    return "data:image/jpeg;base64," + base64.b64encode(buf.getvalue()).decode("ascii")


class FluoroPanel:
    """Data URLs of the AP and lateral views of a model, cached by the X-ray's inputs."""

    def __init__(self, model: Any, *, cache_size: int = 64):
        self.model = model
        self._cache: OrderedDict[tuple, str] = OrderedDict()
        self._size = cache_size

    @staticmethod
    def key(values: Mapping[str, float], view: str) -> tuple:
        # Rounded so a slider that moves a hair does not make a new image.
        return (view, *(round(float(values.get(p, 0.0)), 3) for p in XRAY_PARAMS))

    def image_url(self, values: Mapping[str, float], view: str) -> str:
        key = self.key(values, view)
        url = self._cache.get(key)
        if url is None:
            url = data_url(self.model.fluoroscopy(dict(values), view))
            self._cache[key] = url
            if len(self._cache) > self._size:
                self._cache.popitem(last=False)
        else:
            self._cache.move_to_end(key)
        return url

    def images(self, values: Mapping[str, float], views, audience: str,
               language: str = DEFAULT_LANGUAGE) -> list[dict]:
        """``[{"view", "src", "alt", "caption"}]`` for the step's ``views``, named in ``language``."""
        _ = gettext_for(language)
        return [{"view": v, "src": self.image_url(values, v), "alt": _(VIEW_LABELS[v]["alt"]),
                 "caption": VIEW_LABELS[v]["student"] if audience == "student" else _(VIEW_LABELS[v]["patient"])}
                for v in views]
