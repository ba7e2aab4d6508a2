"""Memory of one ``vp3d serve --server`` process, for the container's requests and limits.

Run: ``python bench/pod_memory.py`` (needs /usr/bin/chromium). It starts the server on a free
loopback port and prints its resident memory (the process and any children) idle, with one
browser session drawn and stepped, and with a second session on another level in practice mode
(a second engine model: the model cache keeps four), then the peak (VmHWM) it reached. ``deploy/kubernetes/deployment.yaml`` sizes the pod from these figures.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from tests.serving import serve  # noqa: E402  (the checkout's helper)

CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-quic"]


def _field_mb(pid: int, name: str) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(name + ":"):
            return int(line.split()[1]) / 1024
    return 0.0


def _tree(pid: int) -> list[int]:
    """``pid`` and its descendants."""
    out, todo = [], [pid]
    while todo:
        p = todo.pop()
        out.append(p)
        for task in Path(f"/proc/{p}/task").iterdir():
            children = (task / "children").read_text().split() if (task / "children").exists() else []
            todo.extend(int(c) for c in children)
    return out


def rss_mb(pid: int) -> float:
    return sum(_field_mb(p, "VmRSS") for p in _tree(pid))


def peak_mb(pid: int) -> float:
    return sum(_field_mb(p, "VmHWM") for p in _tree(pid))


def _drawn(page) -> bool:
    import io

    import numpy as np
    from PIL import Image

    if page.locator("#vp3d-building").count():
        return False
    canvas = page.locator("#vp3d-view canvas").first
    if not canvas.count():
        return False
    grey = np.asarray(Image.open(io.BytesIO(canvas.screenshot())).convert("L"), float)
    return grey.std() > 5


def _wait_drawn(page, timeout_s: float = 180.0) -> None:
    end = time.monotonic() + timeout_s
    while not _drawn(page):
        if time.monotonic() > end:
            raise TimeoutError("the 3D view was not drawn")
        page.wait_for_timeout(250)


def main() -> None:
    from playwright.sync_api import sync_playwright

    with serve() as served:
        pid, url = served.process.pid, served.url
        time.sleep(3)
        idle = rss_mb(pid)
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
            first = browser.new_page(viewport={"width": 1280, "height": 720})
            first.goto(url)
            first.locator("#vp3d-title").wait_for(timeout=120_000)
            _wait_drawn(first)
            for _ in range(6):
                first.get_by_role("button", name="Next step").click()
                first.wait_for_timeout(1500)
            one = rss_mb(pid)
            second = browser.new_page(viewport={"width": 1280, "height": 720})
            second.goto(url + "?level=T8&grade=3&kind=crush&mode=practice&audience=student")
            second.locator("#vp3d-title").wait_for(timeout=120_000)
            second.wait_for_timeout(45_000)  # its model, then the practice's first AP and lateral images
            two = rss_mb(pid)
            peak = peak_mb(pid)
            browser.close()
        time.sleep(3)
        closed = rss_mb(pid)
    print(f"idle server                       : {idle:6.0f} MB")
    print(f"one story session, stepped        : {one:6.0f} MB")
    print(f"plus a practice session on T8     : {two:6.0f} MB")
    print(f"after both closed                 : {closed:6.0f} MB")
    print(f"peak resident (VmHWM)             : {peak:6.0f} MB")


if __name__ == "__main__":
    main()
