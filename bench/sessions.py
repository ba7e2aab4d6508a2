"""Benchmark: server memory while 50 browser sessions open and close one after another.

Run: ``python bench/sessions.py`` (needs /usr/bin/chromium). It starts ``vp3d serve`` on a
free loopback port, opens the page in headless Chromium, waits until the session has built
its scene (story and practice mode alternating), closes it, and prints the server's
``/status`` (resident memory, apps and trame servers still held) after every ten. Target:
growth <= 1 MB per closed session, counted after the first ten (models built, caches warm).
"""

from __future__ import annotations

import json
import sys
import urllib.request

from app import CHROMIUM_ARGS, _wait

from tests.serving import serve

SESSIONS = 50


def _status(url: str) -> dict:
    with urllib.request.urlopen(url + "status", timeout=10) as response:
        return json.load(response)


def main(sessions: int = SESSIONS) -> None:
    from playwright.sync_api import sync_playwright

    with serve() as served:
        url = served.url
        rows = []
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
            for i in range(1, sessions + 1):
                query = "?audience=student&mode=practice" if i % 2 == 0 else "?audience=student"
                page = browser.new_page(viewport={"width": 1280, "height": 720})
                page.goto(url + query)
                page.locator("#vp3d-title").wait_for(timeout=120_000)
                _wait(lambda: page.locator("#vp3d-building").count() == 0, 120, 0.1)
                page.wait_for_timeout(500)
                page.close()
                _wait(lambda: _status(url)["sessions"] == 0, 30, 0.1)
                if i % 10 == 0:
                    st = _status(url)
                    rows.append((i, st))
                    print(f"after {i:3d} sessions: RSS {st['rss_mb']:7.1f} MB, apps in memory "
                          f"{st['apps_in_memory']}, trame servers {st['trame_servers']}, "
                          f"models cached {st['models_cached']}", flush=True)
            browser.close()
        (n0, first), (n1, last) = rows[0], rows[-1]
        per = (last["rss_mb"] - first["rss_mb"]) / max(n1 - n0, 1)
        print(f"growth per closed session after the first {n0}: {per:+.2f} MB  target <= 1 MB  "
              f"{'ok' if per <= 1.0 else 'MISSED'}")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else SESSIONS)
