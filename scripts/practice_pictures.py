"""Screenshots of the student practice: the planned path, a medial breach and a cement leak.

Starts ``vp3d serve`` on a free loopback port, opens the page in headless Chromium (Debian's
``/usr/bin/chromium``) as a student, and drives the practice through the page's own trame
channel. Writes three PNGs::

    .venv/bin/python scripts/practice_pictures.py --level L1 --out pictures
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from tests.serving import serve  # noqa: E402  (the checkout's helper)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--level", default="L1")
    parser.add_argument("--out", default="pictures", type=Path)
    parser.add_argument("--medial-deg", type=float, default=8.0, help="extra medial angle for the breach")
    args = parser.parse_args(argv)
    from playwright.sync_api import sync_playwright

    args.out.mkdir(parents=True, exist_ok=True)
    with serve() as served:
        url = served.url
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path="/usr/bin/chromium")
            page = browser.new_page(viewport={"width": 1600, "height": 900})

            def state(key):
                return page.evaluate(f"window.trame.state.get({json.dumps(key)})")

            def call(name, *values, settle_s=0.6):
                page.evaluate(f"window.trame.trigger({json.dumps(name)}, {json.dumps(list(values))})")
                time.sleep(settle_s)

            def wait(predicate, what, timeout_s=120):
                deadline = time.monotonic() + timeout_s
                while not predicate():
                    if time.monotonic() > deadline:
                        raise SystemExit(f"timed out waiting for {what}")
                    time.sleep(0.3)

            page.goto(url + f"?audience=student&level={args.level}&mode=practice")
            page.wait_for_function("window.trame && window.trame.state", timeout=60_000)
            wait(lambda: state("pr_ready") and not state("building"), "the practice")
            time.sleep(3)
            target = state("pr_target_depth_mm")
            while state("pr_depth_mm") + 5 <= target:
                call("practice_advance", 5)
            rest = round((target - state("pr_depth_mm")) * 2) / 2
            if rest >= 0.5:
                call("practice_advance", rest)
            time.sleep(3)
            page.screenshot(path=str(args.out / f"practice-{args.level}-planned.png"))
            for _ in range(4):
                call("practice_inject", 2)
            time.sleep(3)
            page.screenshot(path=str(args.out / f"practice-{args.level}-cement-leak.png"))
            call("practice_reset")
            call("practice_aim", "medial_deg", state("pr_medial_deg") + args.medial_deg)
            for _ in range(40):
                call("practice_advance", 5)
                if "breached" in (state("pr_alert") or "") or state("pr_depth_mm") >= target:
                    break
            time.sleep(3)
            page.screenshot(path=str(args.out / f"practice-{args.level}-medial-breach.png"))
            browser.close()
    for name in ("planned", "cement-leak", "medial-breach"):
        print(args.out / f"practice-{args.level}-{name}.png")
    return 0


if __name__ == "__main__":
    sys.exit(main())
