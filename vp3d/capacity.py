"""How many browser sessions fit in memory: the measured cost of a worker and of a session.

A worker (one ``vp3d serve`` process) costs :data:`WORKER_MB` once started, each engine model
it builds (one per level, grade, type and procedure chosen; a worker keeps up to
:data:`MODELS_PER_WORKER`) :data:`MODEL_MB`, and each open session :data:`SESSION_MB` more.
The figures are resident memory read from ``/healthz`` by ``python bench/deploy.py`` (2 cores,
no GPU; the README's "Deploying" section gives them). A worker's default session cap is what
its share of the memory available holds, so a full machine shows the busy page instead of
running out of memory.
"""

from __future__ import annotations

import math
import os
from pathlib import Path

#: A worker started, its page files and the app code loaded, no session yet (MB).
WORKER_MB = 345.0
#: One engine model (meshes, density volume, fluoroscope) built and cached by a worker (MB).
MODEL_MB = 280.0
#: Engine models a worker keeps cached (vp3d.app.sessions.MODEL_CACHE_SIZE).
MODELS_PER_WORKER = 4
#: Each open browser session: its own app, state and scene; a story session took 17 MB, a
#: practice session (its own images) 25 MB: plan on the larger.
SESSION_MB = 25.0
#: Share of the available memory the workers may plan on; the rest is left to the system.
MEMORY_SHARE = 0.8


def available_mb(meminfo: Path = Path("/proc/meminfo"),
                 cgroup: Path = Path("/sys/fs/cgroup")) -> float:
    """Memory this process may still use (MB): the kernel's ``MemAvailable``, or less when a
    cgroup (a container's limit) allows less. ``nan`` when neither can be read."""
    free = math.nan
    try:
        for line in meminfo.read_text().splitlines():
            if line.startswith("MemAvailable:"):
                free = int(line.split()[1]) / 1024
    except (OSError, ValueError, IndexError):
        pass
    try:
        limit = (cgroup / "memory.max").read_text().strip()
        if limit != "max":
            used = int((cgroup / "memory.current").read_text())
            left = (int(limit) - used) / 2**20
            free = left if math.isnan(free) else min(free, left)
    except (OSError, ValueError):
        pass
    return free


def worker_mb(sessions: int, models: int = MODELS_PER_WORKER) -> float:
    """Planned memory of one worker holding ``models`` engine models and ``sessions`` sessions (MB)."""
    return WORKER_MB + models * MODEL_MB + sessions * SESSION_MB


def sessions_that_fit(memory_mb: float, workers: int = 1) -> int:
    """Sessions each of ``workers`` workers may open in ``memory_mb`` MB (at least 1)."""
    if workers < 1:
        raise ValueError(f"workers must be 1 or more, got {workers!r}")
    if not math.isfinite(memory_mb):
        return 1
    share = MEMORY_SHARE * memory_mb / workers - worker_mb(0)
    return max(1, math.floor(share / SESSION_MB))


def workers_that_fit(memory_mb: float, sessions: int) -> int:
    """Workers of ``sessions`` sessions each that fit in ``memory_mb`` MB (0 if not one)."""
    return max(0, math.floor(MEMORY_SHARE * memory_mb / worker_mb(sessions)))


def default_workers() -> int:
    """One worker per core this process may run on."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except (AttributeError, OSError):
        return max(1, os.cpu_count() or 1)
