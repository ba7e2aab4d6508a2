"""How late a server's event loop turns: the sign of an overloaded worker, and its heartbeat.

Every page call of every session runs on one event loop. When sessions ask for more work than
the process's core can do, calls wait in line and the loop turns late; a ticker that asks to
wake every ``tick_s`` measures by how much. The lag, smoothed over a few seconds, is what
``/healthz`` reports: over the worker's limit the worker says it is busy, and the proxy sends
new visitors to another worker (or shows them the busy page) instead of making every open
session slower. Each turn of the ticker also touches a heartbeat file when given one, so
``vp3d deploy`` can tell a worker that is slow to answer (busy, its loop still turning) from
one that is stuck (its loop stopped), and restart only the second.
"""

from __future__ import annotations

import asyncio
import math
import os
from pathlib import Path

#: How often the ticker asks to wake, seconds.
TICK_S = 0.25
#: Time constant of the smoothing, seconds: a burst shorter than this barely counts.
WINDOW_S = 5.0


def smoothed(previous_s: float, late_s: float, elapsed_s: float, window_s: float = WINDOW_S) -> float:
    """The lag after one more tick: an exponential average weighted by the time the tick took,
    so a long stall counts for as long as it lasted."""
    weight = 1.0 - math.exp(-max(elapsed_s, 0.0) / window_s)
    return previous_s + weight * (late_s - previous_s)


class LoopLag:
    """The running loop's smoothed lag (``lag_s``), measured by :meth:`run`."""

    def __init__(self, heartbeat: Path | None = None, *, tick_s: float = TICK_S, window_s: float = WINDOW_S):
        self.heartbeat = heartbeat
        self.tick_s = tick_s
        self.window_s = window_s
        self.lag_s = 0.0

    async def run(self) -> None:
        """Tick until cancelled."""
        loop = asyncio.get_running_loop()
        while True:
            start = loop.time()
            await asyncio.sleep(self.tick_s)
            elapsed = loop.time() - start
            self.lag_s = smoothed(self.lag_s, max(0.0, elapsed - self.tick_s), elapsed, self.window_s)
            if self.heartbeat is not None:
                beat(self.heartbeat)


def beat(path: Path) -> None:
    """Touch ``path`` (made if missing); a failure is ignored (the next tick tries again)."""
    try:
        os.utime(path)
    except FileNotFoundError:
        try:
            path.touch()
        except OSError:
            pass
    except OSError:
        pass

