"""Fluoroscopy images for the page: engine images as small JPEG data URLs, cached per state.

The engine's :meth:`vp3d.procedure.case.ProcedureModel.fluoroscopy` answers a storyboard state in
milliseconds; the page gets each view as a ``data:image/jpeg`` URL of a few kilobytes, so it
updates live as the needle moves and the cement flows without any extra HTTP route.

The data URLs are kept per model, not per session: every session on one model (the same
clinician's choice) walks the same story, so each step's images are taken and encoded once and
every later session gets the same URL.
"""

from __future__ import annotations

import base64
import io
import threading
import weakref
from typing import Any, Mapping

import numpy as np
from PIL import Image

from vp3d.i18n import DEFAULT_LANGUAGE, N_, gettext_for
from vp3d.procedure.case import FRAME_PARAMS
from vp3d.shared_cache import SharedCache

#: The images' names: ``alt`` and ``patient`` are translated (:mod:`vp3d.i18n`), the student
#: captions are clinical terms and stay English.
VIEW_LABELS = {
    "ap": {"alt": N_("Fluoroscopy AP"), "student": "AP (anteroposterior)",
           "patient": N_("Live X-ray from the front")},
    "lateral": {"alt": N_("Fluoroscopy lateral"), "student": "Lateral",
                "patient": N_("Live X-ray from the side")},
}
#: Parameters that change the X-ray; the camera orbit does not.
XRAY_PARAMS = FRAME_PARAMS  # the X-ray depends on what a frame depends on
#: Images kept per model (each a few kB): a story's X-ray states several times over.
CACHE_SIZE = 128

#: Model -> the data URLs every panel on it shares; an entry goes with its model.
_SHARED: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()
_SHARED_LOCK = threading.Lock()


def shared_images(model: Any, size: int = CACHE_SIZE) -> SharedCache:
    """The image cache every :class:`FluoroPanel` on ``model`` uses."""
    with _SHARED_LOCK:
        try:
            return _SHARED[model]
        except KeyError:
            shared = _SHARED[model] = SharedCache(size)
            return shared
        except TypeError:  # a model that cannot be weakly referenced: a cache of its own
            return SharedCache(size)


def data_url(image: np.ndarray, *, quality: int = 82) -> str:
    """``image`` (uint8 grey, rows x cols) as a ``data:image/jpeg;base64,...`` URL."""
    arr = np.asarray(image)
    if arr.dtype != np.uint8 or arr.ndim != 2:
        raise ValueError(f"fluoroscopy image must be 2-D uint8, got {arr.dtype} {arr.shape}")
    buf = io.BytesIO()
    Image.fromarray(arr, mode="L").save(buf, format="JPEG", quality=quality)
    return "data:image/jpeg;base64," + base64.b64encode(buf.getvalue()).decode("ascii")


class FluoroPanel:
    """Data URLs of the AP and lateral views of a model, cached by the X-ray's inputs and
    shared with every other panel on the same model (:func:`shared_images`)."""

    def __init__(self, model: Any, *, cache_size: int = CACHE_SIZE):
        self.model = model
        self._shared = shared_images(model, cache_size)

    @staticmethod
    def key(values: Mapping[str, float], view: str) -> tuple:
        # Rounded so a slider that moves a hair does not make a new image.
        return (view, *(round(float(values.get(p, 0.0)), 3) for p in XRAY_PARAMS))

    def image_url(self, values: Mapping[str, float], view: str) -> str:
        # Made outside the cache's lock: two sessions asking at once may both take it.
        return self._shared.get_or_make(self.key(values, view),
                                        lambda: data_url(self.model.fluoroscopy(dict(values), view)))

    def images(self, values: Mapping[str, float], views, audience: str,
               language: str = DEFAULT_LANGUAGE) -> list[dict]:
        """``[{"view", "src", "alt", "caption"}]`` for the step's ``views``, named in ``language``."""
        _ = gettext_for(language)
        return [{"view": v, "src": self.image_url(values, v), "alt": _(VIEW_LABELS[v]["alt"]),
                 "caption": VIEW_LABELS[v]["student"] if audience == "student" else _(VIEW_LABELS[v]["patient"])}
                for v in views]
