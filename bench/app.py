"""Benchmark the page: cold start, step changes, bytes sent and server memory.

Run: ``python bench/app.py`` (needs /usr/bin/chromium). It starts ``vp3d serve`` on a free
loopback port, opens the page in headless Chromium and prints each figure beside its target
(2 cores, no GPU): cold start <= 10 s, step change <= 300 ms, default scene <= 5 MB, memory
per added session <= 150 MB (measured by issue 6's load bench; here: the server's RSS).
"""

from __future__ import annotations

import os
import socket
import statistics
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-quic"]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def _wait(predicate, timeout_s: float, interval_s: float = 0.05):
    end = time.perf_counter() + timeout_s
    while time.perf_counter() < end:
        if predicate():
            return True
        time.sleep(interval_s)
    raise TimeoutError("timed out")


def main() -> None:
    from playwright.sync_api import sync_playwright

    port = _free_port()
    url = f"http://127.0.0.1:{port}/"
    env = dict(os.environ, VTK_DEFAULT_OPENGL_WINDOW="vtkEGLRenderWindow")
    t0 = time.perf_counter()
    server = subprocess.Popen([sys.executable, "-m", "vp3d", "serve", "--server", "--host", "127.0.0.1",
                               "--port", str(port)], cwd=REPO, env=env,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        def answers():
            try:
                urllib.request.urlopen(url, timeout=1)
                return True
            except OSError:
                return False

        _wait(answers, 120, 0.1)
        t_http = time.perf_counter() - t0
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
            page = browser.new_page(viewport={"width": 1280, "height": 720})
            received = [0]
            arrivals: list[float] = []

            def on_frame(payload):
                received[0] += len(payload)
                arrivals.append(time.perf_counter())

            page.on("websocket", lambda ws: ws.on("framereceived", on_frame))
            page.goto(url)
            page.locator("#vp3d-title").wait_for(timeout=60_000)

            def drawn():
                if page.locator("#vp3d-building").count():
                    return False
                canvas = page.locator("#vp3d-view canvas").first
                if not canvas.count():
                    return False
                import io

                import numpy as np
                from PIL import Image

                rgb = np.asarray(Image.open(io.BytesIO(canvas.screenshot())).convert("L"), float)
                return rgb.std() > 5

            _wait(drawn, 120, 0.25)
            t_frame = time.perf_counter() - t0
            payload_mb = received[0] / 1e6
            rss_one = _rss_mb(server.pid)

            # Step changes: click "Next step", time until the page shows the new step number.
            # Server side: click to the server's first answer on the websocket.
            times, server_times = [], []
            for _ in range(8):
                before = page.locator("#vp3d-stepcount").inner_text()
                page.wait_for_timeout(1500)  # let the previous step's updates settle
                start = time.perf_counter()
                page.get_by_role("button", name="Next step").click()
                _wait(lambda: page.locator("#vp3d-stepcount").inner_text() != before, 10, 0.005)
                times.append(1000 * (time.perf_counter() - start))
                answered = [t for t in arrivals if t > start]
                if answered:
                    server_times.append(1000 * (answered[0] - start))
            rss_after = _rss_mb(server.pid)
            # A second browser session with the same choices (its own state, shared engine model).
            second = browser.new_page(viewport={"width": 1280, "height": 720})
            second.goto(url)
            second.locator("#vp3d-title").wait_for(timeout=60_000)
            page = second
            _wait(drawn, 120, 0.25)
            rss_two = _rss_mb(server.pid)
            browser.close()
    finally:
        server.terminate()
        server.wait(timeout=20)

    step_ms = statistics.median(times)
    print(f"server answers HTTP           : {t_http:6.2f} s")
    print(f"cold start to first 3D frame  : {t_frame:6.2f} s   target <= 10 s   ratio {t_frame / 10:.2f}")
    server_ms = statistics.median(server_times) if server_times else float("nan")
    print(f"step change, server answer    : {server_ms:6.0f} ms  (click to first websocket message)")
    print(f"step change seen in the page  : {step_ms:6.0f} ms  target <= 300 ms ratio {step_ms / 300:.2f}"
          f"  (median of {len(times)}, max {max(times):.0f} ms; headless software WebGL)")
    print(f"default scene sent to browser : {payload_mb:6.2f} MB  target <= 5 MB   ratio {payload_mb / 5:.2f}")
    print(f"server memory, one session    : {rss_one:6.0f} MB (after stepping: {rss_after:.0f} MB)")
    added = rss_two - rss_after
    print(f"memory of an added session    : {added:6.0f} MB  target <= 150 MB ratio {added / 150:.2f}")


if __name__ == "__main__":
    main()
