"""What the practices of one model share: its fluoroscope and the cement fills per needle pose.

The model is read only; every browser session practising on it reuses one
:class:`vp3d.fluoro.Fluoroscope` and the fills simulated so far (the last :data:`CEMENT_CACHE`).
"""

from __future__ import annotations

import threading
import weakref
from collections import OrderedDict

from vp3d.fluoro import Fluoroscope

#: Cement fills kept per model (one per needle pose that injected).
CEMENT_CACHE = 16


class SharedImaging:
    """Per model, shared by its practices: the fluoroscope and the cement fills per needle pose."""

    def __init__(self, volume):
        self.scope = Fluoroscope(volume, max_poses=32)
        self._cement: OrderedDict[tuple, object] = OrderedDict()
        self._lock = threading.Lock()

    def cement(self, key: tuple, simulate):
        """The fill for ``key`` (a needle pose), simulated by ``simulate()`` the first time."""
        with self._lock:
            result = self._cement.get(key)
            if result is not None:
                self._cement.move_to_end(key)
                return result
        result = simulate()  # outside the lock: other sessions keep imaging meanwhile
        with self._lock:
            self._cement[key] = result
            while len(self._cement) > CEMENT_CACHE:
                self._cement.popitem(last=False)
        return result


_SHARED: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()
_SHARED_LOCK = threading.Lock()


def shared_for(model) -> SharedImaging:
    """The :class:`SharedImaging` of ``model`` (made on first use, dropped with the model)."""
    with _SHARED_LOCK:
        shared = _SHARED.get(model)
        if shared is None:
            shared = _SHARED[model] = SharedImaging(model.broken_volume)
        return shared
