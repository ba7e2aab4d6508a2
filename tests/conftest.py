"""Shared fixtures. Browser tests: a real ``vp3d serve`` subprocess and headless Chromium."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]
# First start on a fresh machine builds the mesh cache (seconds on two cores): be generous.
SERVER_START_TIMEOUT_S = 180.0


def _in_ci() -> bool:
    return os.environ.get("CI", "").lower() not in ("", "0", "false", "no")


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _answers_http(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2) as response:
            return response.status < 500
    except urllib.error.HTTPError as exc:
        return exc.code < 500
    except OSError:
        return False


@contextlib.contextmanager
def _serve(log_path: Path, extra_args: list[str] = (), extra_env: dict[str, str] | None = None
           ) -> Iterator[str]:
    """Run ``python -m vp3d serve --server`` on a free loopback port; yield its URL."""
    port = _free_port()
    env = dict(os.environ)
    env.setdefault("VTK_DEFAULT_OPENGL_WINDOW", "vtkEGLRenderWindow")
    env["PYTHONUNBUFFERED"] = "1"
    env.update(extra_env or {})
    command = [sys.executable, "-m", "vp3d", "serve", "--server",
               "--host", "127.0.0.1", "--port", str(port), *extra_args]
    url = f"http://127.0.0.1:{port}/"
    with open(log_path, "wb") as log:
        process = subprocess.Popen(command, cwd=REPO, env=env, stdout=log, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + SERVER_START_TIMEOUT_S
        while not _answers_http(url):
            if process.poll() is not None:
                pytest.fail(f"vp3d serve exited with {process.returncode}:\n"
                            f"{log_path.read_text(errors='replace')}")
            if time.monotonic() > deadline:
                pytest.fail(f"vp3d serve did not answer on {url} in {SERVER_START_TIMEOUT_S:.0f} s:\n"
                            f"{log_path.read_text(errors='replace')}")
            time.sleep(0.25)
        yield url
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=10)


@pytest.fixture(scope="session")
def vp3d_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """URL of a real ``python -m vp3d serve --server`` on a free loopback port."""
    with _serve(tmp_path_factory.mktemp("server") / "serve.log") as url:
        yield url


#: Kiosk clock for tests: the story runs 40 times faster and starts over after 4 s idle.
KIOSK_ENV = {"VP3D_PLAY_SPEED": "40", "VP3D_KIOSK_IDLE_S": "4"}


@pytest.fixture(scope="session")
def kiosk_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """URL of a real ``vp3d serve --kiosk`` with a fast story clock (:data:`KIOSK_ENV`)."""
    with _serve(tmp_path_factory.mktemp("kiosk") / "serve.log", ["--kiosk"], KIOSK_ENV) as url:
        yield url


@pytest.fixture(scope="session")
def chromium_browser() -> Iterator[object]:
    """Headless Debian Chromium driven by Playwright (skipped off CI when it is absent).

    Playwright's sync API keeps an event loop in this process once started: the in-process
    app tests (``test_app.py``) must run before the first browser test, which the file names'
    order gives (browser test files are named ``test_browser*`` or ``test_*_browser``).
    """
    if not CHROMIUM.exists():
        reason = f"{CHROMIUM} is absent (Debian: apt-get install chromium)"
        if _in_ci():
            pytest.fail(f"browser tests must run in CI but {reason}")
        pytest.skip(reason)
    if _in_ci():
        from playwright import sync_api  # in CI a missing Playwright is a failure, not a skip
    else:
        sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed")
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()
