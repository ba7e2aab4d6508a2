"""Load: N browser sessions on one ``vp3d serve --server`` process, driven through needle steps.

This measures the page's own cost: the browsers run on the same cores as the server. For the
server alone, with hundreds of sessions and no browsers, see ``bench/protocol_load.py``.

Starts ``python -m vp3d serve --server`` on a free loopback port, opens N headless Chromium
pages (one browser, one context per session; N = 1, 5, 10, 20, each level adding pages to the
ones already open) and drives them all at once, in one of two ways (``--drive``):

* ``story``: every page goes through the steps from step 1 to the cement steps (needle,
  cement, cement sets) with "Next step" clicks; the latency is click → step counter changed.
* ``practice``: every page opens ``/?audience=student&mode=practice`` and pushes the student's
  own needle with "+5 mm" clicks (8 of them, 40 mm, well short of the ~110 mm planned depth at
  L1); the latency is click → the AP image's ``src`` changed, i.e. a new fluoroscopy image.

``--drive both`` (the default) runs the story, then the practice, each on a fresh server and
with its own figures. All pages are clicked at once; the next round starts ``--pause-s``
(default 0.5 s, the user looking at the result) after the last page has answered. For each N
it prints the latency (p50/p95, timed in the page's own clock), the server's CPU use over the
driving phase (from ``/proc/<pid>/stat``; beside it the browsers' and the whole machine's),
its RSS, the memory each added session costs, and the ratios to the targets (p95 <= 1 s at
N = 20, <= 150 MB per added session).

Bounded: at most 20 pages, and the whole run stops itself after ``--budget-s`` (default 480 s
per drive, shared out between the drives). Note that the browsers run on the same machine as
the server and compete with it for CPU.

    .venv/bin/python bench/load.py [--drive story|practice|both] [--sizes 1,5,10,20] [--budget-s S]
        [--pause-s 0.5]
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from tests.serving import serve  # noqa: E402  (the checkout's helper)

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-quic",
                 "--disable-renderer-backgrounding", "--disable-background-timer-throttling",
                 "--disable-backgrounding-occluded-windows"]
MAX_SESSIONS = 20
TARGET_P95_S = 1.0
TARGET_MB_PER_SESSION = 150.0
NEXT_CLICKS = 8  # step 1 → step 9: through the needle, cement and cement-sets steps
ADVANCE_CLICKS = 8  # +5 mm each: 40 mm from the skin, well short of the ~110 mm planned at L1
STEP_TIMEOUT_S = 60.0
PAUSE_S = 0.5  # between rounds: the user looks at the result before the next click
BUDGET_PER_DRIVE_S = 480.0
DRIVES = ("story", "practice")
PRACTICE_QUERY = "?audience=student&mode=practice"
TICK_S = os.sysconf("SC_CLK_TCK")

# Installed in every page: click "Next step" and time it, in the page's own clock, until the
# step counter's text changes. The latency (s) lands in the promise window.__vp3dDone, which
# gives null after the time limit; the bench awaits it instead of polling the pages.
CLICK_AND_TIME = """(limitMs) => {
    const counter = document.querySelector('#vp3d-stepcount');
    const before = counter.innerText;
    const t0 = performance.now();
    window.__vp3dDone = new Promise((resolve) => {
        const observer = new MutationObserver(() => {
            if (counter.innerText !== before) {
                observer.disconnect();
                resolve((performance.now() - t0) / 1000);
            }
        });
        observer.observe(counter, {childList: true, characterData: true, subtree: true});
        setTimeout(() => { observer.disconnect(); resolve(null); }, limitMs);
    });
    document.querySelector('#vp3d-next').click();
    return true;
}"""

# Practice: click "+5 mm" and time it, in the page's own clock, until the AP image's src
# attribute changes (a new image from the server). The images' container is watched, not the
# img itself, so a re-created img is seen as well. Returns false (nothing clicked) when the
# button is disabled (practice not ready or a build under way).
ADVANCE_AND_TIME = """(limitMs) => {
    const box = document.querySelector('#vp3d-pr-fluoro');
    const img = document.querySelector('img.vp3d-pr-ap');
    const button = document.querySelector('#vp3d-pr-advance-5');
    if (!box || !img || !button || button.disabled) return false;
    const before = img.getAttribute('src');
    const t0 = performance.now();
    window.__vp3dDone = new Promise((resolve) => {
        const observer = new MutationObserver(() => {
            const now = document.querySelector('img.vp3d-pr-ap');
            if (now && now.getAttribute('src') !== before) {
                observer.disconnect();
                resolve((performance.now() - t0) / 1000);
            }
        });
        observer.observe(box, {attributes: true, attributeFilter: ['src'], childList: true, subtree: true});
        setTimeout(() => { observer.disconnect(); resolve(null); }, limitMs);
    });
    button.click();
    return true;
}"""


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICK_S  # utime + stime, all threads


def tree_cpu_seconds(root: int, exclude: int) -> float:
    """CPU seconds of the live processes under ``root`` (the browsers and Playwright's driver),
    leaving out the subtree of ``exclude`` (the server)."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            ppid = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
        except (OSError, IndexError, ValueError):
            continue
        children.setdefault(ppid, []).append(int(entry.name))
    total, todo = 0.0, list(children.get(root, []))
    while todo:
        pid = todo.pop()
        if pid == exclude:
            continue
        try:
            total += cpu_seconds(pid)
        except (OSError, IndexError, ValueError):
            pass
        todo.extend(children.get(pid, []))
    return total


def machine_busy_seconds() -> tuple[float, float]:
    """(busy, total) CPU seconds of the whole machine, all CPUs, from /proc/stat."""
    values = [int(v) for v in Path("/proc/stat").read_text().splitlines()[0].split()[1:9]]
    idle = values[3] + values[4]  # idle + iowait
    return (sum(values) - idle) / TICK_S, sum(values) / TICK_S


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    k = (len(ordered) - 1) * q
    lo, hi = int(k), min(int(k) + 1, len(ordered) - 1)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (k - lo)


def page_ready(page) -> bool:
    return page.evaluate("""() => !document.querySelector('#vp3d-building')
        && !!document.querySelector('#vp3d-step-title')
        && document.querySelector('#vp3d-step-title').innerText.trim().length > 0
        && !!document.querySelector('#vp3d-stepcount')""")


def practice_ready(page) -> bool:
    return page.evaluate("""() => !document.querySelector('#vp3d-building')
        && !!window.trame && !!window.trame.state
        && window.trame.state.get('mode') === 'practice'
        && window.trame.state.get('pr_ready') === true
        && !!document.querySelector('img.vp3d-pr-ap')""")


def state_of(page, key: str):
    return page.evaluate("(key) => window.trame.state.get(key)", key)


def wait_until(predicate, timeout_s: float, what: str) -> None:
    deadline = time.monotonic() + timeout_s
    while not predicate():
        if time.monotonic() > deadline:
            raise TimeoutError(f"timed out after {timeout_s:.0f} s waiting for {what}")
        time.sleep(0.2)


def step_of(page) -> int:
    return int(page.locator("#vp3d-stepcount").inner_text().split()[1])


def open_session(browser, url: str, deadline: float, ready=page_ready):
    context = browser.new_context(viewport={"width": 960, "height": 600})
    page = context.new_page()
    page.goto(url, wait_until="load")
    wait_until(lambda: ready(page), max(5.0, deadline - time.monotonic()), "a page to be ready")
    return context, page


def timed_rounds(pages, rounds: int, script: str, deadline: float,
                 pause_s: float = PAUSE_S) -> tuple[list[float], int]:
    """``rounds`` rounds of ``script`` on all pages at once, ``pause_s`` apart (after the last
    page answered); latencies in s and failures.

    All pages are clicked first, then each page's own timing is awaited in turn (the times are
    taken in the pages, so awaiting them one after the other adds nothing to them). A page that
    does not answer within STEP_TIMEOUT_S, or whose control was disabled, counts as a failure
    and its latency as STEP_TIMEOUT_S."""
    latencies: list[float] = []
    failures = 0
    limit_ms = int(STEP_TIMEOUT_S * 1000)
    for i in range(rounds):
        if time.monotonic() > deadline:
            break
        if i:
            time.sleep(pause_s)
        clicked = [page for page in pages if page.evaluate(script, limit_ms) is not False]
        failed = len(pages) - len(clicked)
        for page in clicked:
            value = page.evaluate("window.__vp3dDone")
            if value is None:
                failed += 1
            else:
                latencies.append(float(value))
        failures += failed
        latencies.extend([STEP_TIMEOUT_S] * failed)  # failures count at the limit
    return latencies, failures


def drive_story(pages, deadline: float, pause_s: float = PAUSE_S) -> tuple[list[float], int, str]:
    """All pages: back to step 1, then NEXT_CLICKS rounds of Next at once."""
    for page in pages:
        page.evaluate("window.trame.trigger('go_step', [0])")
    for page in pages:
        wait_until(lambda: step_of(page) == 1, 30, "a page to be back at step 1")
    latencies, failures = timed_rounds(pages, NEXT_CLICKS, CLICK_AND_TIME, deadline, pause_s)
    steps = sorted({step_of(page) for page in pages})
    return latencies, failures, f"ended at step {','.join(map(str, steps))}"


def drive_practice(pages, deadline: float, pause_s: float = PAUSE_S) -> tuple[list[float], int, str]:
    """All pages: needle back out (Start over), then ADVANCE_CLICKS rounds of +5 mm at once."""
    for page in pages:
        if state_of(page, "pr_depth_mm") or state_of(page, "pr_cement_ml"):
            page.evaluate("window.trame.trigger('practice_reset')")
    for page in pages:
        wait_until(lambda: state_of(page, "pr_depth_mm") == 0 and practice_ready(page), 30,
                   "a page's needle to be back at the skin")
    latencies, failures = timed_rounds(pages, ADVANCE_CLICKS, ADVANCE_AND_TIME, deadline, pause_s)
    time.sleep(0.5)
    depths = sorted({float(state_of(page, "pr_depth_mm")) for page in pages})
    return latencies, failures, f"needle at {','.join(f'{d:g}' for d in depths)} mm"


def run_drive(drive: str, sizes: list[int], deadline: float, pause_s: float = PAUSE_S) -> list[dict]:
    """One server, N = sizes pages on it driven by ``drive``; prints and returns one row per N."""
    from playwright.sync_api import sync_playwright

    ready = practice_ready if drive == "practice" else page_ready
    drive_pages = drive_practice if drive == "practice" else drive_story
    what = "+5 mm clicks" if drive == "practice" else "Next clicks"
    log = Path(tempfile.mkstemp(prefix=f"vp3d-load-{drive}-", suffix=".log")[1])
    rows = []
    with serve(log_path=log) as served:
        server = served.process
        url = served.url + (PRACTICE_QUERY if drive == "practice" else "")
        idle_rss = rss_mb(server.pid)
        print(f"[{drive}] server pid {server.pid} on {url}, idle RSS {idle_rss:.0f} MB, "
              f"{os.cpu_count()} CPUs, log {log}", flush=True)
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            sessions = []
            base = None  # (N, RSS) of the first level: later levels count the sessions added since
            try:
                for n in sizes:
                    if time.monotonic() > deadline:
                        print(f"[{drive}] N={n}: skipped, time budget spent", flush=True)
                        break
                    t_open = time.monotonic()
                    try:
                        while len(sessions) < n and time.monotonic() < deadline:
                            sessions.append(open_session(browser, url, deadline, ready))
                    except TimeoutError as exc:
                        print(f"[{drive}] N={n}: {exc}", flush=True)
                        break
                    if len(sessions) < n:
                        print(f"[{drive}] N={n}: only {len(sessions)} pages opened in the time budget",
                              flush=True)
                        break
                    open_s = time.monotonic() - t_open
                    time.sleep(2.0)  # let the new sessions settle (first frames, audio)
                    rss = rss_mb(server.pid)
                    if base is None:
                        base = (n, rss)
                    pages = [page for _, page in sessions]
                    cpu0, t0 = cpu_seconds(server.pid), time.monotonic()
                    client0 = tree_cpu_seconds(os.getpid(), server.pid)
                    busy0, all0 = machine_busy_seconds()
                    latencies, failures, where = drive_pages(pages, deadline, pause_s)
                    drive_s = time.monotonic() - t0
                    cpu = (cpu_seconds(server.pid) - cpu0) / max(1e-9, drive_s)
                    client = (tree_cpu_seconds(os.getpid(), server.pid) - client0) / max(1e-9, drive_s)
                    busy1, all1 = machine_busy_seconds()
                    machine = (busy1 - busy0) / max(1e-9, all1 - all0)
                    rss_after = rss_mb(server.pid)
                    rss_max = max(rss, rss_after)
                    if n > base[0]:
                        per_session = (rss_max - base[1]) / (n - base[0])
                    else:  # the first level: over the idle server, the shared model build included
                        per_session = (rss_max - idle_rss) / n
                    row = dict(drive=drive, n=n, clicks=len(latencies), failures=failures,
                               p50=percentile(latencies, 0.5), p95=percentile(latencies, 0.95),
                               cpu=cpu, client=client, machine=machine, rss=rss_max,
                               per=per_session, first=n == base[0], open_s=open_s, drive_s=drive_s)
                    rows.append(row)
                    print(f"[{drive}] N={n:2d}: {row['clicks']:3d} {what} ({failures} failed)  "
                          f"p50 {row['p50']:.2f} s  p95 {row['p95']:.2f} s  "
                          f"server CPU {100 * cpu:.0f}% of a core over {drive_s:.0f} s "
                          f"(browsers {100 * client:.0f}%, machine {100 * machine:.0f}% busy)  "
                          f"RSS {row['rss']:.0f} MB  {row['per']:.0f} MB/"
                          f"{'session over idle' if row['first'] else 'added session'}  "
                          f"(opening took {open_s:.0f} s; {where})", flush=True)
                    if server.poll() is not None:
                        print(f"[{drive}] the server died", flush=True)
                        break
            finally:
                for context, _ in sessions:
                    context.close()
                browser.close()
    return rows


def print_table(drive: str, rows: list[dict]) -> None:
    latency = ("click -> AP image src changed" if drive == "practice"
               else "click -> step counter changed")
    print()
    print(f"{drive} drive ({latency}); targets: p95 <= {TARGET_P95_S:.1f} s at N = {MAX_SESSIONS}, "
          f"<= {TARGET_MB_PER_SESSION:.0f} MB/added session")
    print(f"{'N':>3} {'clicks':>6} {'failed':>6} {'p50 s':>7} {'p95 s':>7} {'p95/tgt':>7} {'CPU %':>6} "
          f"{'brws %':>6} {'mach %':>6} {'RSS MB':>7} {'MB/added':>9} {'MB/tgt':>6}")
    for row in rows:
        p95_ratio = row["p95"] / TARGET_P95_S
        ok = row["p95"] <= TARGET_P95_S and (row["first"] or row["per"] <= TARGET_MB_PER_SESSION)
        per_text = f"({row['per']:.0f})" if row["first"] else f"{row['per']:.0f}"
        mb_text = f"{'-':>6}" if row["first"] else f"{row['per'] / TARGET_MB_PER_SESSION:6.2f}"
        print(f"{row['n']:3d} {row['clicks']:6d} {row['failures']:6d} {row['p50']:7.2f} "
              f"{row['p95']:7.2f} {p95_ratio:7.2f} {100 * row['cpu']:6.0f} {100 * row['client']:6.0f} "
              f"{100 * row['machine']:6.0f} {row['rss']:7.0f} {per_text:>9} {mb_text}   "
              f"{'meets' if ok else 'MISSES'} the targets")
    print("CPU %: the server, % of one core over the driving phase; brws %: the browsers and "
          "Playwright, % of one core; mach %: the whole machine busy, % of all its CPUs. "
          "(MB) on the first level: RSS over the idle server per session, the model build included.")
    if rows and rows[-1]["n"] < MAX_SESSIONS:
        print(f"(N = {MAX_SESSIONS} not reached: the p95 target at N = {MAX_SESSIONS} is not measured)")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--drive", choices=(*DRIVES, "both"), default="both",
                        help="story: Next step clicks; practice: +5 mm needle clicks; both (default)")
    parser.add_argument("--sizes", default="1,5,10,20", help="session counts, rising (max 20)")
    parser.add_argument("--budget-s", type=float, default=None,
                        help=f"stop the whole run after this long (default {BUDGET_PER_DRIVE_S:.0f} s per drive)")
    parser.add_argument("--pause-s", type=float, default=PAUSE_S,
                        help=f"pause between rounds of clicks (default {PAUSE_S:g} s; 0: click again "
                             "as soon as every page has answered)")
    args = parser.parse_args(argv)
    sizes = sorted({min(MAX_SESSIONS, max(1, int(s))) for s in args.sizes.split(",")})
    drives = list(DRIVES) if args.drive == "both" else [args.drive]
    budget = args.budget_s if args.budget_s is not None else BUDGET_PER_DRIVE_S * len(drives)
    start = time.monotonic()
    end = start + budget

    results = {}
    for i, drive in enumerate(drives):
        # Each drive gets an even share of what is left (the last one, all of it).
        deadline = time.monotonic() + (end - time.monotonic()) / (len(drives) - i)
        results[drive] = run_drive(drive, sizes, deadline, max(0.0, args.pause_s))
    for drive in drives:
        print_table(drive, results[drive])
    print(f"total {time.monotonic() - start:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
