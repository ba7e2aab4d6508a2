"""Load on the server alone: many sessions speaking the page's websocket protocol, no browsers.

Each session is a :class:`bench.protocol_client.ProtocolSession` (the page's wslink/trame
messages, every reply checked: the step moved and its frame arrived, the needle moved and new
images arrived). Sessions are added in rounds (10, 25, 50, 100, 200 by default); in each round
every session acts once every ``--mean-wait-s`` (3 s) on average (exponential waits), a
story step or a practice move of 5 mm (``--practice-share`` of the sessions practise), and
after a warm-up the round is measured for ``--round-s`` seconds. Per round it prints the
latency (p50/p95/max, from the call to its checked reply), the actions and errors, each server
process's CPU (% of one core, from ``/proc/<pid>/stat``, with its children) and resident memory,
the server CPU per action (all processes' CPU time over the actions: the figure that holds
when other work shares the cores), this load generator's own CPU (it shares the machine), and
at the end the largest session count whose p95 stayed within 1 s with no errors.

Without ``--url`` it starts one ``vp3d serve --server`` on a free loopback port (tests/serving.py),
or with ``--deploy N`` a ``vp3d deploy --workers N`` (HAProxy in front of N workers; each worker
and the proxy are measured); with ``--url`` it aims at a running server or a proxy in front of several (give ``--pid`` for
each server process to measure). Loopback only: the URL's host must be 127.0.0.1 or localhost.
Bounded: at most ``--max-sessions`` (200) sessions and ``--budget-s`` (300 s) in all; it stops
after the first round whose p95 is over 1 s unless ``--keep-going``.

    .venv/bin/python bench/protocol_load.py [--sizes 10,25,50,100,200] [--round-s 30]
        [--budget-s 300] [--max-sessions 200] [--deploy N | --url http://127.0.0.1:PORT/ --pid PID ...]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import random
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

import aiohttp

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from bench.protocol_client import ProtocolSession, Timing  # noqa: E402
from tests.serving import deploy, serve  # noqa: E402

TARGET_P95_S = 1.0
TARGET_SESSIONS = 100
TICK_S = os.sysconf("SC_CLK_TCK")
PAGE_BYTES = os.sysconf("SC_PAGE_SIZE")
STORY_QUERY = "?audience=student"
PRACTICE_QUERY = "?audience=student&mode=practice"
OPEN_AT_ONCE = 4  # sessions opening together (each builds its own page state on the server)


def cpu_ticks(pid: int) -> int:
    """User + system ticks of ``pid`` and its waited-for children (0 when gone)."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return sum(int(v) for v in fields[11:15])  # utime stime cutime cstime
    except (OSError, IndexError, ValueError):
        return 0


def children(pid: int) -> list[int]:
    try:
        with open(f"/proc/{pid}/task/{pid}/children") as f:
            return [int(p) for p in f.read().split()]
    except OSError:
        return []


def rss_mb(pid: int) -> float:
    try:
        with open(f"/proc/{pid}/statm") as f:
            return int(f.read().split()[1]) * PAGE_BYTES / 1e6
    except (OSError, IndexError, ValueError):
        return 0.0


def process_ticks(pid: int) -> int:
    """``pid`` and its live children (worker processes), in ticks."""
    return cpu_ticks(pid) + sum(cpu_ticks(c) for c in children(pid))


def deployed_pids(deployed) -> list[int]:
    """The workers' pids (from the supervisor's "worker K started (pid P" lines), then HAProxy's."""
    import re

    workers = {int(k): int(pid) for k, pid in re.findall(r"worker (\d+) started \(pid (\d+)", deployed.log())}
    proxy = [pid for pid in children(deployed.process.pid) if pid not in workers.values()]
    return [workers[k] for k in sorted(workers)] + proxy


def percentile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))]


@dataclass
class Recorder:
    """What the sessions report, kept only while a round is being measured."""

    measuring: bool = False
    timings: list[Timing] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    def add(self, timing: Timing) -> None:
        if self.measuring:
            self.timings.append(timing)
            if not timing.ok:
                self.errors.append(f"{timing.kind}: check failed ({timing.detail})")

    def error(self, text: str) -> None:
        if self.measuring:
            self.errors.append(text)


async def run_session(session: ProtocolSession, practice: bool, mean_wait_s: float,
                      recorder: Recorder, stop: asyncio.Event, rng: random.Random) -> None:
    """Act once every ``mean_wait_s`` on average until ``stop``; a failed action is an error and
    the session carries on (a closed socket ends it)."""
    while not stop.is_set():
        with contextlib.suppress(asyncio.TimeoutError):
            await asyncio.wait_for(stop.wait(), rng.expovariate(1.0 / mean_wait_s))
        if stop.is_set():
            return
        try:
            recorder.add(await (session.practice_move() if practice else session.next_step()))
        except Exception as exc:  # noqa: BLE001 - counted, and the session goes on
            recorder.error(f"{'practice' if practice else 'story'}: {exc}")
            if session._closed_reason:  # the socket is gone: nothing more to do here
                return


async def open_session(url: str, http: aiohttp.ClientSession, practice: bool,
                       limit: asyncio.Semaphore) -> ProtocolSession:
    async with limit:
        session = ProtocolSession(url, http=http)
        await session.open(PRACTICE_QUERY if practice else STORY_QUERY)
        await session.wait_ready()
        return session


async def load(url: str, pids: list[int], sizes: list[int], *, round_s: float, warmup_s: float,
               budget_s: float, mean_wait_s: float, practice_share: float, keep_going: bool,
               seed: int) -> None:
    rng = random.Random(seed)
    recorder = Recorder()
    stop = asyncio.Event()
    sessions: list[ProtocolSession] = []
    tasks: list[asyncio.Task] = []
    started = time.monotonic()
    best = 0
    limit = asyncio.Semaphore(OPEN_AT_ONCE)
    connector = aiohttp.TCPConnector(limit=0)
    print(f"server {url}  processes {pids or 'not measured'}  each session acts every "
          f"{mean_wait_s:g} s on average, {practice_share:.0%} practising; rounds of {round_s:g} s")
    print(f"{'sessions':>8} {'actions':>7} {'p50 ms':>7} {'p95 ms':>7} {'max ms':>7} {'story p95':>9} "
          f"{'pract p95':>9} {'errors':>6} {'CPU ms/act':>10}  {'server CPU % / RSS MB per process':<34} "
          f"{'client CPU %':>12}")
    async with aiohttp.ClientSession(connector=connector) as http:
        try:
            for size in sizes:
                if time.monotonic() - started + round_s + warmup_s > budget_s:
                    print(f"(stopped: the {budget_s:g} s budget leaves no room for {size} sessions)")
                    break
                # Open the new sessions while the old ones keep acting (not measured).
                new = [open_session(url, http, rng.random() < practice_share, limit)
                       for _ in range(size - len(sessions))]
                t_open = time.monotonic()
                opened = await asyncio.gather(*new, return_exceptions=True)
                open_errors = [o for o in opened if isinstance(o, BaseException)]
                for s in opened:
                    if isinstance(s, ProtocolSession):
                        sessions.append(s)
                        practice = s.state.get("mode") == "practice"  # as asked: open waits for it
                        tasks.append(asyncio.create_task(run_session(
                            s, practice, mean_wait_s, recorder, stop, random.Random(rng.random()))))
                open_s = time.monotonic() - t_open
                await asyncio.sleep(warmup_s)
                # Measure one round.
                recorder.timings, recorder.errors = [], [f"open: {e}" for e in open_errors]
                ticks0 = {p: process_ticks(p) for p in pids}
                me0, t0 = cpu_ticks(os.getpid()), time.monotonic()
                recorder.measuring = True
                await asyncio.sleep(round_s)
                recorder.measuring = False
                wall = time.monotonic() - t0
                cpu = {p: (process_ticks(p) - ticks0[p]) / TICK_S / wall * 100 for p in pids}
                me = (cpu_ticks(os.getpid()) - me0) / TICK_S / wall * 100
                lat = [t.latency_s for t in recorder.timings]
                story = [t.latency_s for t in recorder.timings if t.kind == "story"]
                practice = [t.latency_s for t in recorder.timings if t.kind == "practice"]
                p95 = percentile(lat, 0.95)
                server_ms = sum(cpu.values()) / 100 * wall * 1e3 / len(lat) if lat and pids else float("nan")
                per_proc = "  ".join(f"{cpu[p]:.0f}%/{rss_mb(p):.0f}" for p in pids) or "-"
                print(f"{len(sessions):>8} {len(lat):>7} {percentile(lat, .5) * 1e3:>7.0f} {p95 * 1e3:>7.0f} "
                      f"{max(lat, default=float('nan')) * 1e3:>7.0f} {percentile(story, .95) * 1e3:>9.0f} "
                      f"{percentile(practice, .95) * 1e3:>9.0f} {len(recorder.errors):>6} {server_ms:>10.0f}  {per_proc:<34} "
                      f"{me:>12.0f}   (opened in {open_s:.0f} s)", flush=True)
                for text in sorted(set(recorder.errors))[:3]:
                    print(f"         error: {text[:160]}")
                held = lat and p95 <= TARGET_P95_S and not recorder.errors
                if held:
                    best = len(sessions)
                elif not keep_going:
                    print("(stopped: p95 over 1 s or errors; --keep-going to go on)")
                    break
        finally:
            stop.set()
            await asyncio.gather(*tasks, return_exceptions=True)
            await asyncio.gather(*(s.close() for s in sessions), return_exceptions=True)
    print(f"largest session count with p95 <= {TARGET_P95_S:g} s and no errors: {best} "
          f"(target >= {TARGET_SESSIONS} on 2 cores: {'met' if best >= TARGET_SESSIONS else 'not met'})")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--url", help="a running server or proxy (loopback); else one is started")
    parser.add_argument("--pid", type=int, action="append", default=[],
                        help="a server process to measure (repeat for each worker)")
    parser.add_argument("--sizes", default="10,25,50,100,200")
    parser.add_argument("--max-sessions", type=int, default=200)
    parser.add_argument("--round-s", type=float, default=30.0)
    parser.add_argument("--warmup-s", type=float, default=5.0)
    parser.add_argument("--budget-s", type=float, default=300.0)
    parser.add_argument("--mean-wait-s", type=float, default=3.0)
    parser.add_argument("--practice-share", type=float, default=0.5)
    parser.add_argument("--keep-going", action="store_true")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--deploy", type=int, metavar="N",
                        help="start `vp3d deploy --workers N` (HAProxy and N workers) and load it")
    parser.add_argument("--server-args", default="", help="extra `vp3d serve` (or `deploy`) arguments")
    parser.add_argument("--server-log", type=Path, help="keep the started server's output here")
    args = parser.parse_args(argv)
    sizes = [n for n in (int(s) for s in args.sizes.split(",")) if 0 < n <= args.max_sessions]
    options = dict(round_s=args.round_s, warmup_s=args.warmup_s, budget_s=args.budget_s,
                   mean_wait_s=args.mean_wait_s, practice_share=args.practice_share,
                   keep_going=args.keep_going, seed=args.seed)
    if args.url:
        host = urlsplit(args.url).hostname
        if host not in ("127.0.0.1", "localhost", "::1"):
            parser.error(f"loopback only: --url host must be 127.0.0.1 or localhost, got {host}")
        asyncio.run(load(args.url, args.pid, sizes, **options))
        return
    if args.deploy:
        log_path = args.server_log or Path(tempfile.mkdtemp(prefix="vp3d-load-")) / "deploy.log"
        with deploy(args.deploy, args.server_args.split(), log_path=log_path) as deployed:
            asyncio.run(load(deployed.url, deployed_pids(deployed), sizes, **options))
        return
    with serve(args.server_args.split(), log_path=args.server_log) as served:
        asyncio.run(load(served.url, [served.process.pid], sizes, **options))


if __name__ == "__main__":
    main()
