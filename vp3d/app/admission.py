"""Whether a worker takes another browser session: its cap, its idle limit and its drain.

A public page must not run its machine out of memory: each worker takes at most
``max_sessions`` open sessions, and past that (or while draining before it exits) it refuses
new pages and websockets with the busy page and says so on ``/healthz``, so the reverse proxy
sends new visitors to another worker. A worker whose event loop turns late (its smoothed lag,
:mod:`vp3d.app.loop_lag`, over ``busy_lag_s``) is busy: it refuses new sessions the same way
until the lag falls below half that, so a crowd slows the sessions already open no further.
Sessions nobody has touched for ``idle_timeout_s`` are
closed (the kiosk has none: it plays on its own).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

READY, FULL, BUSY, DRAINING = "ready", "full", "busy", "draining"


@dataclass(frozen=True)
class Limits:
    """A worker's limits; ``None`` means none (no cap, never closed for idling)."""

    max_sessions: int | None = None
    idle_timeout_s: float | None = None
    #: How long a draining worker lets open sessions go on before it closes them and exits.
    drain_grace_s: float = 60.0
    #: The number ``vp3d deploy`` gave this worker (``None`` for a lone ``vp3d serve``).
    worker_id: int | None = None
    #: Smoothed event-loop lag, seconds, from which the worker refuses new sessions (``None``:
    #: never for lag). One second: the slowest answers the load bench accepts (p95 <= 1 s).
    busy_lag_s: float | None = 1.0

    def __post_init__(self):
        if self.max_sessions is not None and (isinstance(self.max_sessions, bool)
                                              or not isinstance(self.max_sessions, int)
                                              or self.max_sessions < 1):
            raise ValueError(f"max_sessions must be a whole number of 1 or more, got {self.max_sessions!r}")
        if self.idle_timeout_s is not None and not (math.isfinite(self.idle_timeout_s) and self.idle_timeout_s > 0):
            raise ValueError(f"idle_timeout_s must be above 0 seconds, got {self.idle_timeout_s!r}")
        if not (math.isfinite(self.drain_grace_s) and self.drain_grace_s >= 0):
            raise ValueError(f"drain_grace_s must be 0 seconds or more, got {self.drain_grace_s!r}")
        if self.busy_lag_s is not None and not (math.isfinite(self.busy_lag_s) and self.busy_lag_s > 0):
            raise ValueError(f"busy_lag_s must be above 0 seconds, got {self.busy_lag_s!r}")


class Admission:
    """The worker's state for new sessions: ready, full (at its cap), busy (its loop late) or
    draining."""

    def __init__(self, limits: Limits):
        self.limits = limits
        self.draining = False
        self.busy = False

    def note_lag(self, lag_s: float) -> None:
        """The loop's smoothed lag now: busy from ``busy_lag_s``, ready again below half of it
        (a worker near the limit does not flip at every check)."""
        limit = self.limits.busy_lag_s
        if limit is None:
            self.busy = False
        elif lag_s >= limit:
            self.busy = True
        elif lag_s < limit / 2:
            self.busy = False

    def state(self, open_sessions: int) -> str:
        if self.draining:
            return DRAINING
        cap = self.limits.max_sessions
        if cap is not None and open_sessions >= cap:
            return FULL
        return BUSY if self.busy else READY

    def admits(self, open_sessions: int) -> bool:
        return self.state(open_sessions) == READY

    def idle(self, since_s: float) -> bool:
        """Whether a session untouched for ``since_s`` seconds is to be closed."""
        limit = self.limits.idle_timeout_s
        return limit is not None and since_s >= limit
