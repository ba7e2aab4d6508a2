"""Load: N browser sessions on one ``vp3d serve --server`` process, driven through needle steps.

Starts ``python -m vp3d serve --server`` on a free loopback port, opens N headless Chromium
pages (one browser, one context per session; N = 1, 5, 10, 20, each level adding pages to the
ones already open), and drives every page through the steps from step 1 to the cement steps
(needle, cement, cement sets) with "Next step" clicks, all N pages at once. For each N it prints
the click → step counter latency (p50/p95, timed in the page), the server's CPU use over the
driving phase (from ``/proc/<pid>/stat``), its RSS, and the memory each added session costs.

Bounded: at most 20 pages, and the whole run stops itself after ``--budget-s`` (default 480 s).
Note that the browsers run on the same machine as the server and compete with it for CPU.

    .venv/bin/python bench/load.py [--sizes 1,5,10,20] [--budget-s 480]
"""

from __future__ import annotations

import argparse
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-quic",
                 "--disable-renderer-backgrounding", "--disable-background-timer-throttling",
                 "--disable-backgrounding-occluded-windows"]
MAX_SESSIONS = 20
TARGET_P95_S = 1.0
TARGET_MB_PER_SESSION = 150.0
NEXT_CLICKS = 8  # step 1 → step 9: through the needle, cement and cement-sets steps
STEP_TIMEOUT_S = 60.0
TICK_S = os.sysconf("SC_CLK_TCK")

# Installed in every page: click "Next step" and time it, in the page's own clock, until the
# step counter's text changes.
CLICK_AND_TIME = """() => {
    const counter = document.querySelector('#vp3d-stepcount');
    const before = counter.innerText;
    window.__vp3dLatency = null;
    const t0 = performance.now();
    const observer = new MutationObserver(() => {
        if (counter.innerText !== before) {
            window.__vp3dLatency = (performance.now() - t0) / 1000;
            observer.disconnect();
        }
    });
    observer.observe(counter, {childList: true, characterData: true, subtree: true});
    document.querySelector('#vp3d-next').click();
}"""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICK_S  # utime + stime, all threads


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


def start_server(port: int, log) -> subprocess.Popen:
    env = dict(os.environ, PYTHONUNBUFFERED="1")
    env.setdefault("VTK_DEFAULT_OPENGL_WINDOW", "vtkEGLRenderWindow")
    command = [sys.executable, "-m", "vp3d", "serve", "--server", "--host", "127.0.0.1",
               "--port", str(port)]
    return subprocess.Popen(command, cwd=REPO, env=env, stdout=log, stderr=subprocess.STDOUT)


def wait_http(url: str, process: subprocess.Popen, timeout_s: float) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the server exited with {process.returncode}")
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            pass
        time.sleep(0.25)
    raise RuntimeError(f"the server did not answer on {url} in {timeout_s:.0f} s")


def page_ready(page) -> bool:
    return page.evaluate("""() => !document.querySelector('#vp3d-building')
        && !!document.querySelector('#vp3d-step-title')
        && document.querySelector('#vp3d-step-title').innerText.trim().length > 0
        && !!document.querySelector('#vp3d-stepcount')""")


def wait_until(predicate, timeout_s: float, what: str) -> None:
    deadline = time.monotonic() + timeout_s
    while not predicate():
        if time.monotonic() > deadline:
            raise TimeoutError(f"timed out after {timeout_s:.0f} s waiting for {what}")
        time.sleep(0.2)


def step_of(page) -> int:
    return int(page.locator("#vp3d-stepcount").inner_text().split()[1])


def open_session(browser, url: str, deadline: float):
    context = browser.new_context(viewport={"width": 960, "height": 600})
    page = context.new_page()
    page.goto(url, wait_until="load")
    wait_until(lambda: page_ready(page), max(5.0, deadline - time.monotonic()), "a page to be ready")
    return context, page


def drive(pages, deadline: float) -> list[float]:
    """All pages: back to step 1, then NEXT_CLICKS rounds of Next at once; latencies in s."""
    for page in pages:
        page.evaluate("window.trame.trigger('go_step', [0])")
    for page in pages:
        wait_until(lambda: step_of(page) == 1, 30, "a page to be back at step 1")
    latencies: list[float] = []
    for _ in range(NEXT_CLICKS):
        if time.monotonic() > deadline:
            break
        for page in pages:
            page.evaluate(CLICK_AND_TIME)
        waiting = list(pages)
        stop = time.monotonic() + STEP_TIMEOUT_S
        while waiting and time.monotonic() < stop:
            for page in list(waiting):
                value = page.evaluate("window.__vp3dLatency")
                if value is not None:
                    latencies.append(float(value))
                    waiting.remove(page)
            time.sleep(0.05)
        latencies.extend([STEP_TIMEOUT_S] * len(waiting))  # counted as failures at the limit
    return latencies


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="1,5,10,20", help="session counts, rising (max 20)")
    parser.add_argument("--budget-s", type=float, default=480.0, help="stop after this long")
    args = parser.parse_args(argv)
    sizes = sorted({min(MAX_SESSIONS, max(1, int(s))) for s in args.sizes.split(",")})
    start = time.monotonic()
    deadline = start + args.budget_s

    from playwright.sync_api import sync_playwright

    port = free_port()
    url = f"http://127.0.0.1:{port}/"
    log = tempfile.NamedTemporaryFile(prefix="vp3d-load-", suffix=".log", delete=False)
    server = start_server(port, log)
    rows = []
    try:
        wait_http(url, server, 180)
        idle_rss = rss_mb(server.pid)
        print(f"server pid {server.pid} on {url}, idle RSS {idle_rss:.0f} MB, "
              f"{os.cpu_count()} CPUs, log {log.name}", flush=True)
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            sessions = []
            rss_one = None
            try:
                for n in sizes:
                    if time.monotonic() > deadline:
                        print(f"N={n}: skipped, time budget spent", flush=True)
                        break
                    t_open = time.monotonic()
                    while len(sessions) < n and time.monotonic() < deadline:
                        sessions.append(open_session(browser, url, deadline))
                    if len(sessions) < n:
                        print(f"N={n}: only {len(sessions)} pages opened in the time budget")
                        break
                    open_s = time.monotonic() - t_open
                    time.sleep(2.0)  # let the new sessions settle (first frames, audio)
                    rss = rss_mb(server.pid)
                    if rss_one is None:
                        rss_one = rss
                    cpu0, t0 = cpu_seconds(server.pid), time.monotonic()
                    latencies = drive([page for _, page in sessions], deadline)
                    cpu = (cpu_seconds(server.pid) - cpu0) / max(1e-9, time.monotonic() - t0)
                    rss_after = rss_mb(server.pid)
                    per_session = ((max(rss, rss_after) - rss_one) / (n - 1) if n > 1
                                   else max(rss, rss_after) - idle_rss)
                    row = dict(n=n, clicks=len(latencies), p50=percentile(latencies, 0.5),
                               p95=percentile(latencies, 0.95), cpu=cpu, rss=max(rss, rss_after),
                               per=per_session, open_s=open_s)
                    rows.append(row)
                    print(f"N={n:2d}: {row['clicks']:3d} clicks  p50 {row['p50']:.2f} s  "
                          f"p95 {row['p95']:.2f} s  server CPU {100 * cpu:.0f}% of a core  "
                          f"RSS {row['rss']:.0f} MB  {row['per']:.0f} MB/added session  "
                          f"(opening took {open_s:.0f} s)", flush=True)
                    if server.poll() is not None:
                        print("the server died", flush=True)
                        break
            finally:
                for context, _ in sessions:
                    context.close()
                browser.close()
    finally:
        if server.poll() is None:
            server.send_signal(signal.SIGTERM)
            try:
                server.wait(timeout=10)
            except subprocess.TimeoutExpired:
                server.kill()
        log.close()

    print()
    print(f"{'N':>3} {'p50 s':>7} {'p95 s':>7} {'CPU %':>6} {'RSS MB':>7} {'MB/added':>9}   "
          f"targets: p95 <= {TARGET_P95_S:.1f} s, <= {TARGET_MB_PER_SESSION:.0f} MB/added session")
    for row in rows:
        ok = row["p95"] <= TARGET_P95_S and (row["n"] == 1 or row["per"] <= TARGET_MB_PER_SESSION)
        print(f"{row['n']:3d} {row['p50']:7.2f} {row['p95']:7.2f} {100 * row['cpu']:6.0f} "
              f"{row['rss']:7.0f} {row['per']:9.0f}   {'meets' if ok else 'MISSES'} the targets")
    print(f"total {time.monotonic() - start:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
