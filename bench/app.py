"""Benchmark the page: cold start, step changes, bytes sent and server memory.

Run: ``python bench/app.py`` (needs /usr/bin/chromium). It starts ``vp3d serve`` on a free
loopback port, opens the page in headless Chromium and prints each figure beside its target
(2 cores, no GPU): cold start <= 10 s, step change <= 300 ms, default scene <= 5 MB, memory
per added session <= 150 MB (measured by issue 6's load bench; here: the server's RSS).
"""

from __future__ import annotations

import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from tests.serving import serve  # noqa: E402  (the checkout's helper)

CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-quic"]


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

    t0 = time.perf_counter()
    with serve() as served:
        server, url = served.process, served.url
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
            # A phone: 390 x 844 CSS pixels, touch, device pixel ratio 3; its own bytes and time.
            phone = browser.new_context(viewport={"width": 390, "height": 844}, device_scale_factor=3,
                                        is_mobile=True, has_touch=True).new_page()
            received[0] = 0
            phone.on("websocket", lambda ws: ws.on("framereceived", on_frame))
            t_phone0 = time.perf_counter()
            phone.goto(url)
            phone.locator("#vp3d-title").wait_for(timeout=60_000)
            page = phone
            _wait(drawn, 120, 0.25)
            t_phone = time.perf_counter() - t_phone0
            phone_mb = received[0] / 1e6
            browser.close()

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
    print(f"phone 390x844: first 3D frame : {t_phone:6.2f} s   (a warm server; third session)")
    print(f"phone 390x844: bytes to page  : {phone_mb:6.2f} MB  target <= 5 MB   ratio {phone_mb / 5:.2f}")


if __name__ == "__main__":
    main()
