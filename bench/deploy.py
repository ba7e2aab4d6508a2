"""Deploying: what a worker and a session cost in memory, and how fast a killed worker is back.

Run: ``python bench/deploy.py`` (needs /usr/bin/chromium and HAProxy). It starts ``vp3d deploy
--workers 1`` on a free loopback port and reads the worker's resident memory from its
``/healthz`` at each stage: started with no session; after the first story session (which
builds the engine model); after each further story session; after the first practice session
(the practice's shared fluoroscope) and each further one; and once every page has closed.
Then it kills the worker (SIGKILL) and times until a new one answers ``/healthz`` ready
(target: restarted within 10 s). Last, it prints how many sessions per worker and how many
workers fit in a few memory sizes (``vp3d.capacity``), beside the figures it assumes.

    .venv/bin/python bench/deploy.py [--story 4] [--practice 3]
"""

from __future__ import annotations

import argparse
import os
import signal
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from load import CHROMIUM, CHROMIUM_ARGS, open_session, page_ready, practice_ready  # noqa: E402

from tests.serving import deploy  # noqa: E402  (the checkout's helper)
from vp3d import capacity  # noqa: E402

RESTART_TARGET_S = 10.0


def _settled_rss(deployed, worker: int = 1) -> float:
    """The worker's RSS once two readings a second apart agree within 2 MB."""
    last = deployed.health(worker)["rss_mb"]
    for _ in range(20):
        time.sleep(1.0)
        now = deployed.health(worker)["rss_mb"]
        if abs(now - last) < 2.0:
            return now
        last = now
    return last


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--story", type=int, default=4, help="story sessions to open (default 4)")
    ap.add_argument("--practice", type=int, default=3, help="practice sessions to open (default 3)")
    args = ap.parse_args(argv)
    from playwright.sync_api import sync_playwright

    log = Path(tempfile.mkdtemp(prefix="vp3d-bench-")) / "deploy.log"
    with deploy(1, ["--max-sessions", "50"], log_path=log) as deployed, sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        idle = _settled_rss(deployed)
        print(f"worker started, no session       : {idle:6.0f} MB  (capacity.WORKER_MB {capacity.WORKER_MB:.0f})")
        opened, story, practice = [], [], []
        for i in range(args.story):
            opened.append(open_session(browser, deployed.url, time.monotonic() + 240, page_ready))
            story.append(_settled_rss(deployed))
            print(f"story session {i + 1}                  : {story[-1]:6.0f} MB", flush=True)
        for i in range(args.practice):
            opened.append(open_session(browser, deployed.url + "?audience=student&mode=practice",
                                       time.monotonic() + 240, practice_ready))
            practice.append(_settled_rss(deployed))
            print(f"practice session {i + 1}               : {practice[-1]:6.0f} MB", flush=True)
        for context, _ in opened:
            context.close()
        deadline = time.monotonic() + 60
        while deployed.health(1)["sessions"] and time.monotonic() < deadline:
            time.sleep(0.5)
        closed = _settled_rss(deployed)
        browser.close()

        per_story = (story[-1] - story[0]) / max(len(story) - 1, 1)
        per_practice = (practice[-1] - practice[0]) / max(len(practice) - 1, 1)
        model = story[0] - idle - per_story
        print(f"first session (engine model built): {model:6.0f} MB  (capacity.MODEL_MB {capacity.MODEL_MB:.0f})")
        print(f"each further story session        : {per_story:6.1f} MB")
        print(f"first practice session (its shared images): {practice[0] - story[-1] - per_practice:6.0f} MB")
        print(f"each further practice session     : {per_practice:6.1f} MB  "
              f"(capacity.SESSION_MB {capacity.SESSION_MB:.0f})")
        print(f"all pages closed                  : {closed:6.0f} MB (models stay cached)")

        pid = deployed.health(1)["pid"]
        os.kill(pid, signal.SIGKILL)
        start = time.monotonic()
        while True:
            h = deployed.health(1, timeout_s=1.0)
            if h is not None and h["pid"] != pid and h["state"] == "ready":
                break
            if time.monotonic() - start > 120:
                raise TimeoutError(f"the killed worker was not back in 120 s:\n{deployed.log()}")
            time.sleep(0.1)
        back = time.monotonic() - start
        print(f"killed worker answering again in  : {back:6.1f} s  target <= {RESTART_TARGET_S:.0f} s  "
              f"{'ok' if back <= RESTART_TARGET_S else 'MISSED'}")

    print(f"\nplanned per worker: {capacity.WORKER_MB:.0f} MB + {capacity.MODELS_PER_WORKER} models x "
          f"{capacity.MODEL_MB:.0f} MB + {capacity.SESSION_MB:.0f} MB per session "
          f"(using {100 * capacity.MEMORY_SHARE:.0f}% of the memory)")
    for gb in (2, 4, 8, 16, 32):
        mb = 1024 * gb
        print(f"  {gb:2d} GB: 1 worker takes {capacity.sessions_that_fit(mb, 1):4d} sessions; "
              f"2 workers {capacity.sessions_that_fit(mb, 2):4d} each; "
              f"workers of 25 sessions that fit: {capacity.workers_that_fit(mb, 25)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
