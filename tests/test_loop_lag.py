"""The event-loop lag that tells an overloaded worker, its heartbeat, and what the supervisor
makes of a worker that answers late."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
import time
from pathlib import Path

import pytest

from tests import aio
from tests.serving import free_port
from vp3d.app.admission import BUSY, FULL, READY, Admission, Limits
from vp3d.app.loop_lag import LoopLag, smoothed
from vp3d.deploy.process import Child
from vp3d.deploy.supervisor import SILENT_S, Plan, Supervisor, Worker, beat_age_s


def test_smoothing_weighs_each_tick_by_its_length():
    assert smoothed(0.0, 0.0, 0.25) == 0.0
    one = smoothed(0.0, 1.0, 0.25, window_s=5.0)
    assert one == pytest.approx(1 - 2.718281828 ** -0.05, rel=1e-6)  # a short tick counts a little
    assert smoothed(0.0, 3.0, 3.25, window_s=5.0) == pytest.approx(3.0 * (1 - 2.718281828 ** -0.65), rel=1e-6)
    value = 0.0
    for _ in range(200):  # a steady lag is reached, and no more
        value = smoothed(value, 0.4, 0.65)
    assert value == pytest.approx(0.4, rel=1e-3)


def test_a_blocked_loop_is_measured_late_and_an_idle_one_is_not(tmp_path):
    beat = tmp_path / "worker.beat"

    async def measure(block_s: float) -> float:
        lag = LoopLag(beat, tick_s=0.05, window_s=1.0)
        task = asyncio.ensure_future(lag.run())
        await asyncio.sleep(0.3)
        for _ in range(3):
            time.sleep(block_s)  # work holding the loop, as many sessions' calls would
            await asyncio.sleep(0.06)
        task.cancel()
        return lag.lag_s

    assert aio.run(measure(0.0)) < 0.05
    assert beat.exists() and time.time() - beat.stat().st_mtime < 5
    assert aio.run(measure(0.6)) > 0.3


def test_a_late_loop_makes_the_worker_busy_until_it_has_caught_up():
    admission = Admission(Limits(max_sessions=3, busy_lag_s=1.0))
    admission.note_lag(0.7)
    assert admission.state(0) == READY
    admission.note_lag(1.2)
    assert admission.state(0) == BUSY and not admission.admits(0)
    admission.note_lag(0.6)  # not yet half the limit: still busy (no flapping)
    assert admission.state(0) == BUSY
    admission.note_lag(0.4)
    assert admission.state(0) == READY
    admission.note_lag(5.0)
    assert admission.state(3) == FULL  # the cap is named first
    never = Admission(Limits(busy_lag_s=None))
    never.note_lag(100.0)
    assert never.state(0) == READY
    for bad in (0.0, -1.0, float("inf")):
        with pytest.raises(ValueError):
            Limits(busy_lag_s=bad)


def _silent_worker(tmp_path: Path) -> tuple[Supervisor, Worker]:
    """A worker that answers nothing on its port (a real process that listens nowhere) and
    has not answered for longer than the supervisor waits."""
    plan = Plan(workers=1, host="127.0.0.1", port=free_port(), haproxy=Path("/usr/sbin/haproxy"), max_sessions=1)
    lines: list[str] = []
    child = Child("worker 1", [sys.executable, "-c", "import time; time.sleep(60)"], lines.append)
    worker = Worker(1, free_port(), child, tmp_path / "worker1.beat")
    supervisor = Supervisor(plan, log=lines.append)
    supervisor.workers.append(worker)
    worker.was_ready = True
    worker.last_answer = time.monotonic() - SILENT_S - 5
    supervisor.lines = lines
    return supervisor, worker


def test_a_worker_slow_to_answer_whose_loop_turns_is_left_running(tmp_path):
    supervisor, worker = _silent_worker(tmp_path)

    async def check() -> bool:
        await worker.child.start()
        try:
            worker.beat_file.touch()  # its loop turned just now
            await supervisor._check(worker)
            return worker.child.running()
        finally:
            await worker.child.stop(signal.SIGKILL, 5)

    assert aio.run(check()) is True
    assert worker.state == "slow"
    assert any("overloaded, left running" in line for line in supervisor.lines)


def test_a_worker_whose_loop_stopped_is_killed(tmp_path):
    supervisor, worker = _silent_worker(tmp_path)

    async def check() -> int | None:
        await worker.child.start()
        worker.beat_file.touch()
        old = time.time() - SILENT_S - 10
        os.utime(worker.beat_file, (old, old))  # its loop last turned 40 s ago
        await supervisor._check(worker)
        return await asyncio.wait_for(worker.child.wait(), 10)

    assert aio.run(check()) == -signal.SIGKILL
    assert worker.state == "silent"
    assert any("event loop has not turned" in line for line in supervisor.lines)
    assert beat_age_s(None, time.time()) == float("inf")


def test_the_smoothing_window_from_the_environment_is_checked(monkeypatch):
    from vp3d.app.main import LAG_WINDOW_ENV, _env_seconds

    monkeypatch.delenv(LAG_WINDOW_ENV, raising=False)
    assert _env_seconds(LAG_WINDOW_ENV) is None
    monkeypatch.setenv(LAG_WINDOW_ENV, "1.5")
    assert _env_seconds(LAG_WINDOW_ENV) == 1.5
    for bad, words in (("soon", "must be a number"), ("0", "must be above 0"), ("inf", "must be above 0")):
        monkeypatch.setenv(LAG_WINDOW_ENV, bad)
        with pytest.raises(ValueError, match=f"{LAG_WINDOW_ENV} {words}"):
            _env_seconds(LAG_WINDOW_ENV)
