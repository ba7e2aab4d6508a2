"""``vp3d deploy``: N ``vp3d serve`` workers on loopback ports behind HAProxy, kept alive.

The supervisor writes the proxy's configuration into a fresh folder, starts the workers and
the proxy, prints the public URL once every worker answers ``/healthz``, and from then on:
a worker that ends (killed, crashed, out of memory, drained) is started again at once on its
port; one that stops answering ``/healthz`` while its event loop has stopped turning (its
heartbeat file untouched) is killed and started again; one that answers late while its loop
still turns is busy, not stuck, and is left to its sessions (killing an overloaded worker
would only throw its sessions onto the others). Ctrl+C (SIGINT)
stops everything now; SIGTERM drains: the workers finish their sessions (up to their grace
period) while the proxy still carries them, then the proxy stops.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import signal
import socket
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from vp3d import busy_page
from vp3d.deploy import haproxy, health
from vp3d.deploy.process import Child, exit_words

#: A worker that has answered before and then says nothing for this long, its event loop
#: silent as long, is killed (a model build may hold a worker's loop for a few seconds on a
#: loaded machine, never this long).
SILENT_S = 30.0
#: A new worker must answer within this long (the first start may build the mesh cache).
START_S = 240.0
#: Seconds between two health polls of every worker.
POLL_S = 1.0
#: A worker that ends before it was ever ready waits this long (doubling up to 8 s) to restart.
FIRST_BACKOFF_S = 0.5


@dataclass(frozen=True)
class Plan:
    """What to run: ``workers`` workers with their limits, the public address, HAProxy."""

    workers: int
    host: str
    port: int
    haproxy: Path
    #: Each worker's session cap, idle limit (``None``: never) and drain grace period.
    max_sessions: int
    idle_timeout_s: float | None = 1800.0
    drain_grace_s: float = 60.0
    #: Smoothed event-loop lag from which a worker takes no new sessions (``None``: never).
    busy_lag_s: float | None = 1.0
    #: Story options every worker gets (``--level L2 --kiosk`` ...), as command-line words.
    story_args: tuple[str, ...] = ()
    python: str = field(default=sys.executable)

    def __post_init__(self):
        if self.workers < 1:
            raise ValueError(f"workers must be 1 or more, got {self.workers}")

    @property
    def serve_args(self) -> list[str]:
        """The ``vp3d serve`` options every worker gets, after its address and number."""
        return [*self.story_args, "--max-sessions", str(self.max_sessions),
                "--idle-timeout", f"{self.idle_timeout_s or 0:g}", "--drain-grace", f"{self.drain_grace_s:g}",
                "--busy-lag", f"{self.busy_lag_s or 0:g}"]


def free_loopback_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def worker_argv(python: str, worker_id: int, port: int, serve_args: Sequence[str],
                beat_file: Path | None = None) -> list[str]:
    """The command of one worker: ``vp3d serve`` on its loopback port, with its number (and the
    heartbeat file its event loop touches)."""
    beat = ["--heartbeat", str(beat_file)] if beat_file is not None else []
    return [python, "-m", "vp3d", "serve", "--server", "--host", "127.0.0.1", "--port", str(port),
            "--worker-id", str(worker_id), *beat, *serve_args]


def beat_age_s(path: Path | None, now_s: float) -> float:
    """Seconds since a worker's event loop last touched its heartbeat file (infinite if never)."""
    if path is None:
        return float("inf")
    try:
        return max(0.0, now_s - path.stat().st_mtime)
    except OSError:
        return float("inf")


def public_url(host: str, port: int) -> str:
    shown = "localhost" if host in ("0.0.0.0", "::") else host
    return f"http://[{shown}]:{port}/" if ":" in shown else f"http://{shown}:{port}/"


def _stamp(line: str) -> str:
    return f"{time.strftime('%H:%M:%S')} {line}"


class Worker:
    """One worker slot: its number, port, current process and what it last said on /healthz."""

    def __init__(self, worker_id: int, port: int, child: Child, beat_file: Path | None = None):
        self.worker_id = worker_id
        self.port = port
        self.child = child
        self.beat_file = beat_file
        self.state = "starting"  # then ready, full, busy, draining (from /healthz), slow or silent
        self.last_answer = 0.0
        self.was_ready = False


class Supervisor:
    """Runs a :class:`Plan` until SIGINT or SIGTERM; :meth:`run` returns the exit status."""

    def __init__(self, plan: Plan, log: Callable[[str], None] | None = None,
                 announce: Callable[[str], None] | None = None):
        self.plan = plan
        self.log = log or (lambda line: print(_stamp(line), file=sys.stderr, flush=True))
        self.announce = announce or (lambda line: print(line, flush=True))
        self.workers: list[Worker] = []
        self.proxy: Child | None = None
        self._stop: asyncio.Future | None = None
        self._stopping = False
        self._failure: str | None = None

    # -- start -------------------------------------------------------------------------------
    def _write_run_folder(self, folder: Path) -> Path:
        backends = [haproxy.Backend(w.worker_id, w.port) for w in self.workers]
        page = folder / "busy.html"
        page.write_text(busy_page.BUSY_HTML, encoding="utf-8")
        cfg = folder / "haproxy.cfg"
        cfg.write_text(haproxy.config(self.plan.host, self.plan.port, backends, page, busy_page.RETRY_AFTER_S),
                       encoding="utf-8")
        haproxy.check(self.plan.haproxy, cfg)
        return cfg

    def _make_workers(self, folder: Path) -> None:
        env = dict(os.environ, PYTHONUNBUFFERED="1")
        for worker_id in range(1, self.plan.workers + 1):
            port = free_loopback_port()
            beat = folder / f"worker{worker_id}.beat"
            child = Child(f"worker {worker_id}",
                          worker_argv(self.plan.python, worker_id, port, self.plan.serve_args, beat),
                          self.log, env=env, parent_death=signal.SIGINT,
                          quiet=lambda line: line.startswith(("vp3d running at", "vp3d: starting the server")))
            self.workers.append(Worker(worker_id, port, child, beat))

    async def run(self) -> int:
        loop = asyncio.get_running_loop()
        self._stop = loop.create_future()
        loop.add_signal_handler(signal.SIGINT, self.request_stop, "now")
        loop.add_signal_handler(signal.SIGTERM, self.request_stop, "drain")
        loop.add_signal_handler(signal.SIGHUP, self.request_stop, "now")
        folder = Path(tempfile.mkdtemp(prefix="vp3d-deploy-"))
        tasks: list[asyncio.Task] = []
        try:
            self._make_workers(folder)
            cfg = self._write_run_folder(folder)
            self.log(f"{self.plan.workers} worker(s) on 127.0.0.1 ports "
                     f"{', '.join(str(w.port) for w in self.workers)}, up to {self.plan.max_sessions} "
                     f"session(s) each; HAProxy {self.plan.haproxy} with {cfg}")
            self.proxy = Child("proxy", haproxy.command(self.plan.haproxy, cfg), self.log)
            tasks = [asyncio.ensure_future(self._keep(w)) for w in self.workers]
            tasks.append(asyncio.ensure_future(self._keep_proxy()))
            tasks.append(asyncio.ensure_future(self._poll()))
            tasks.append(asyncio.ensure_future(self._announce_when_ready()))
            how = await self._stop
            await self._shut_down(how)
            await asyncio.wait(tasks[:-2], timeout=5)  # each keeper logs how its child ended
        finally:
            self._stopping = True
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
                loop.remove_signal_handler(sig)
            for child in [w.child for w in self.workers] + ([self.proxy] if self.proxy else []):
                if child.running():  # only after an error above: nothing may outlive the supervisor
                    await child.stop(signal.SIGKILL, 5)
            shutil.rmtree(folder, ignore_errors=True)
        if self._failure:
            self.log(self._failure)
            return 1
        self.log("stopped")
        return 0

    def request_stop(self, how: str) -> None:
        """``"now"`` (Ctrl+C) or ``"drain"`` (SIGTERM); a second Ctrl+C during a drain stops now."""
        if not self._stop.done():
            self.log("stopping now (Ctrl+C)" if how == "now" else "draining every worker, then stopping (SIGTERM)")
            self._stop.set_result(how)
        elif how == "now" and self._stopping:
            self.log("stopping now")
            for w in self.workers:
                w.child.signal(signal.SIGINT)

    def _fail(self, message: str) -> None:
        self._failure = message
        if not self._stop.done():
            self._stop.set_result("now")

    async def _announce_when_ready(self) -> None:
        while not (self.proxy.running() and await _accepts(self.plan.host, self.plan.port)):
            await asyncio.sleep(0.2)
        self.announce(f"vp3d running at {public_url(self.plan.host, self.plan.port)}")
        ready = sum(w.was_ready for w in self.workers)
        self.log(f"{ready} of {self.plan.workers} worker(s) ready behind HAProxy (Ctrl+C stops, SIGTERM drains)")

    # -- keep running ------------------------------------------------------------------------
    async def _keep(self, w: Worker) -> None:
        """Start the worker, and start it again whenever it ends, until the supervisor stops."""
        backoff = FIRST_BACKOFF_S
        while not self._stopping:
            w.state, w.was_ready, w.last_answer = "starting", False, 0.0
            await w.child.start()
            self.log(f"worker {w.worker_id} started (pid {w.child.pid}, 127.0.0.1:{w.port})")
            code = await w.child.wait()
            how = "drained and " if w.state == "draining" and code == 0 else ""
            if self._stopping:
                self.log(f"worker {w.worker_id} stopped (pid {w.child.pid}): {how}{exit_words(code)}")
                return
            if w.was_ready:
                backoff, delay = FIRST_BACKOFF_S, 0.0
            else:
                delay, backoff = backoff, min(2 * backoff, 8.0)
                tail = w.child.last_lines[-1] if w.child.last_lines else "no output"
                how += f"before it was ready ({tail}); "
            self.log(f"worker {w.worker_id} ended (pid {w.child.pid}): {how}{exit_words(code)}; starting it again")
            await asyncio.sleep(delay)

    async def _keep_proxy(self) -> None:
        """Start the proxy once the workers answer (so it starts with them up), and start it
        again if it ends; a proxy that fails at once (its port taken) stops the deployment."""
        end = time.monotonic() + START_S
        while not all(w.was_ready for w in self.workers) and time.monotonic() < end:
            await asyncio.sleep(0.2)
        first = True
        while not self._stopping:
            await self.proxy.start()
            self.log(f"proxy started (pid {self.proxy.pid}) on {public_url(self.plan.host, self.plan.port)}")
            code = await self.proxy.wait()
            if self._stopping:
                self.log(f"proxy stopped (pid {self.proxy.pid})")
                return
            if first and time.monotonic() - self.proxy.started_at < 5:
                tail = next((ln for ln in reversed(self.proxy.last_lines) if "ALERT" in ln),
                            self.proxy.last_lines[-1] if self.proxy.last_lines else exit_words(code))
                self._fail(f"HAProxy could not start: {haproxy.alert_text(tail)}")
                return
            first = False
            self.log(f"proxy ended (pid {self.proxy.pid}): {exit_words(code)}; starting it again")
            await asyncio.sleep(1.0)

    async def _poll(self) -> None:
        """Ask every worker ``/healthz`` each second: log its changes, kill it when silent."""
        while True:
            await asyncio.gather(*(self._check(w) for w in self.workers))
            await asyncio.sleep(POLL_S)

    async def _check(self, w: Worker) -> None:
        if not w.child.running():
            return
        pid = w.child.pid
        answer = await health.ask(w.port, timeout_s=5.0)
        now = time.monotonic()
        if not w.child.running() or w.child.pid != pid:
            return
        if answer is not None and answer.report.get("pid") == pid:
            w.last_answer = now
            if answer.state != w.state:
                detail = f"{answer.report.get('sessions')} session(s), {answer.report.get('rss_mb')} MB"
                self.log(f"worker {w.worker_id} {answer.state} (pid {pid}, {detail})")
                w.state = answer.state
            w.was_ready = True
            return
        limit, since = (SILENT_S, w.last_answer) if w.was_ready else (START_S, w.child.started_at)
        if now - since > limit and not self._stopping:
            beat = beat_age_s(w.beat_file, time.time())
            if w.was_ready and beat <= SILENT_S:  # its loop turns: overloaded, not stuck
                if w.state != "slow":
                    self.log(f"worker {w.worker_id} (pid {pid}) has not answered /healthz for {now - since:.0f} s "
                             f"but its event loop turned {beat:.0f} s ago: overloaded, left running")
                    w.state = "slow"
                return
            self.log(f"worker {w.worker_id} (pid {pid}) has not answered /healthz for {now - since:.0f} s "
                     f"and its event loop has not turned for {min(beat, now - since):.0f} s; killing it")
            w.state = "silent"
            w.child.signal(signal.SIGKILL)

    # -- stop --------------------------------------------------------------------------------
    async def _shut_down(self, how: str) -> None:
        self._stopping = True
        workers = [w.child for w in self.workers]
        if how == "drain":
            for w in self.workers:
                w.state = "draining"
            # The proxy keeps carrying the open sessions while the workers drain.
            await asyncio.gather(*(c.stop(signal.SIGTERM, self.plan.drain_grace_s + 20) for c in workers))
            if self.proxy is not None:
                await self.proxy.stop(signal.SIGTERM, 10)
        else:
            if self.proxy is not None:
                await self.proxy.stop(signal.SIGTERM, 10)
            await asyncio.gather(*(c.stop(signal.SIGINT, 15) for c in workers))


async def _accepts(host: str, port: int) -> bool:
    """Whether something accepts TCP connections on ``host:port`` (any address: loopback)."""
    target = {"0.0.0.0": "127.0.0.1", "::": "::1"}.get(host, host)
    try:
        _, writer = await asyncio.wait_for(asyncio.open_connection(target, port), 2)
    except (OSError, asyncio.TimeoutError):
        return False
    writer.close()
    return True


def deploy(plan: Plan) -> int:
    """Run the deployment in the foreground; the exit status (0 after a clean stop)."""
    return asyncio.run(Supervisor(plan).run())
