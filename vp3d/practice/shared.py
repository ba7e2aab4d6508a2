"""What the practices of one model share: its fluoroscope and the cement fills per needle pose.

The model is read only; every browser session practising on it reuses one
:class:`vp3d.fluoro.Fluoroscope` and the fills simulated so far (the last :data:`CEMENT_CACHE`).
"""

from __future__ import annotations

import threading
import weakref

from vp3d.fluoro import Fluoroscope
from vp3d.shared_cache import SharedCache

#: Cement fills kept per model (one per needle pose that injected).
CEMENT_CACHE = 16


class SharedImaging:
    """Per model, shared by its practices: the fluoroscope and the cement fills per needle pose."""

    def __init__(self, volume):
        self.scope = Fluoroscope(volume, max_poses=32)
        self._cement = SharedCache(CEMENT_CACHE)

    def cement(self, key: tuple, simulate):
        """The fill for ``key`` (a needle pose), simulated by ``simulate()`` the first time."""
        return self._cement.get_or_make(key, simulate)  # outside the lock: others keep imaging


_SHARED: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()
_SHARED_LOCK = threading.Lock()


def shared_for(model) -> SharedImaging:
    """The :class:`SharedImaging` of ``model`` (made on first use, dropped with the model)."""
    with _SHARED_LOCK:
        shared = _SHARED.get(model)
        if shared is None:
            shared = _SHARED[model] = SharedImaging(model.broken_volume)
        return shared
