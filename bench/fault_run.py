"""A worker killed under load: which sessions are lost, how soon it is back, whether new ones work.

Starts ``vp3d deploy --workers 2`` (HAProxy and two workers), opens ``--sessions`` sessions
that speak the page's websocket protocol (bench/protocol_client.py; half practise), each acting
once every 3 s on average, then SIGKILLs worker 1. Prints how many sessions each worker held
(from ``/healthz``), how many were lost (their websocket closed) against how many the killed
worker held, the errors of the sessions that stayed, the time from the kill to worker 1
answering ready again, and how many of the sessions opened in the seconds after the kill
(one every ``--new-every-s``) opened and took a checked step.

    .venv/bin/python bench/fault_run.py [--sessions 40] [--after-s 30]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import signal
import sys
import tempfile
import time
from pathlib import Path

import aiohttp

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from bench.protocol_client import ProtocolSession  # noqa: E402
from bench.protocol_load import PRACTICE_QUERY, STORY_QUERY, Recorder, run_session  # noqa: E402
from tests.serving import deploy  # noqa: E402


async def open_one(url: str, http: aiohttp.ClientSession, practice: bool) -> ProtocolSession:
    session = ProtocolSession(url, http=http)
    await session.open(PRACTICE_QUERY if practice else STORY_QUERY)
    await session.wait_ready()
    return session


async def fault(deployed, sessions_n: int, after_s: float, new_every_s: float, seed: int) -> None:
    rng = random.Random(seed)
    url = deployed.url
    recorder = Recorder()
    stop = asyncio.Event()
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0)) as http:
        limit = asyncio.Semaphore(4)

        async def opened(i: int) -> ProtocolSession:
            async with limit:
                return await open_one(url, http, i % 2 == 1)

        t0 = time.monotonic()
        sessions = list(await asyncio.gather(*(opened(i) for i in range(sessions_n))))
        print(f"{len(sessions)} sessions open in {time.monotonic() - t0:.0f} s")
        tasks = [asyncio.create_task(run_session(s, s.state.get("mode") == "practice", 3.0, recorder, stop,
                                                 random.Random(rng.random()))) for s in sessions]
        await asyncio.sleep(10)
        before = {k: await asyncio.to_thread(deployed.health, k) for k in (1, 2)}
        held = {k: (r or {}).get("sessions") for k, r in before.items()}
        print(f"sessions per worker before the kill: worker 1 {held[1]}, worker 2 {held[2]}")
        victim = before[1]["pid"]
        recorder.timings, recorder.errors = [], []
        recorder.measuring = True
        killed_at = time.monotonic()
        os.kill(victim, signal.SIGKILL)
        print(f"worker 1 (pid {victim}) killed")

        async def back() -> float:
            while True:
                report = await asyncio.to_thread(deployed.health, 1, 2.0)
                if report and report.get("pid") != victim and report.get("state") == "ready":
                    return time.monotonic() - killed_at
                await asyncio.sleep(0.1)

        async def newcomer(delay_s: float) -> str:
            await asyncio.sleep(delay_s)
            try:
                session = await open_one(url, http, practice=False)
                try:
                    timing = await session.next_step()
                    return "ok" if timing.ok else f"step check failed: {timing.detail}"
                finally:
                    await session.close()
            except Exception as exc:  # noqa: BLE001 - reported
                return f"failed: {exc}"

        newcomers = [asyncio.create_task(newcomer(i * new_every_s)) for i in range(int(after_s // new_every_s))]
        restart_s = await asyncio.wait_for(back(), 120)
        results = await asyncio.gather(*newcomers)
        await asyncio.sleep(max(0.0, after_s - (time.monotonic() - killed_at)))
        recorder.measuring = False
        stop.set()
        await asyncio.gather(*tasks, return_exceptions=True)
        lost = [s for s in sessions if s._closed_reason]
        staying_errors = [e for e in recorder.errors if "closed the websocket" not in e
                          and "websocket read failed" not in e]
        after = {k: await asyncio.to_thread(deployed.health, k) for k in (1, 2)}
        await asyncio.gather(*(s.close() for s in sessions), return_exceptions=True)
    ok = sum(r == "ok" for r in results)
    print(f"sessions lost: {len(lost)} (worker 1 held {held[1]}; worker 2 held {held[2]})")
    print(f"actions of the sessions that stayed, {after_s:g} s after the kill: "
          f"{sum(1 for t in recorder.timings)} checked, {len(staying_errors)} errors")
    for text in sorted(set(staying_errors))[:3]:
        print(f"    error: {text[:160]}")
    print(f"worker 1 ready again {restart_s:.1f} s after the kill "
          f"(pid {after[1] and after[1].get('pid')}, {after[1] and after[1].get('sessions')} sessions)")
    print(f"new sessions opened after the kill (one every {new_every_s:g} s): {ok} of {len(results)} "
          f"opened and stepped")
    for r in results:
        if r != "ok":
            print(f"    {r[:160]}")
    verdict = len(lost) == held[1] and not staying_errors and ok == len(results) and restart_s <= 10
    print(f"only the killed worker's sessions lost, the others unharmed, new sessions working, back "
          f"within 10 s: {'yes' if verdict else 'no'}")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sessions", type=int, default=40)
    parser.add_argument("--after-s", type=float, default=30.0, help="how long to watch after the kill")
    parser.add_argument("--new-every-s", type=float, default=2.0)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--log", type=Path, help="keep vp3d deploy's output here")
    args = parser.parse_args(argv)
    if not 2 <= args.sessions <= 200:
        parser.error("--sessions must be 2-200")
    log = args.log or Path(tempfile.mkdtemp(prefix="vp3d-fault-")) / "deploy.log"
    with deploy(2, log_path=log) as deployed:
        asyncio.run(fault(deployed, args.sessions, args.after_s, args.new_every_s, args.seed))
    print(f"deploy log: {log}")


if __name__ == "__main__":
    main()
