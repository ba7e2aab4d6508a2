"""Shared fixtures. Browser tests: a real ``vp3d serve`` subprocess and headless Chromium."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.serving import serve

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


def _in_ci() -> bool:
    return os.environ.get("CI", "").lower() not in ("", "0", "false", "no")


@pytest.fixture(scope="session")
def vp3d_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """URL of a real ``python -m vp3d serve --server`` on a free loopback port."""
    with serve(log_path=tmp_path_factory.mktemp("server") / "serve.log") as served:
        yield served.url


#: Kiosk clock for tests: the story runs 40 times faster and starts over after 4 s idle.
KIOSK_ENV = {"VP3D_PLAY_SPEED": "40", "VP3D_KIOSK_IDLE_S": "4"}


@pytest.fixture(scope="session")
def kiosk_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """URL of a real ``vp3d serve --kiosk`` with a fast story clock (:data:`KIOSK_ENV`)."""
    with serve(["--kiosk"], log_path=tmp_path_factory.mktemp("kiosk") / "serve.log", env=KIOSK_ENV) as served:
        yield served.url


@pytest.fixture(scope="session")
def haproxy_binary() -> Path:
    """Debian's HAProxy, which ``make test`` installs (skipped off CI when it is absent)."""
    from vp3d.deploy import haproxy

    try:
        return haproxy.find()
    except ValueError as exc:
        if _in_ci():
            pytest.fail(f"deploy tests must run in CI but {exc}")
        pytest.skip(str(exc))


@pytest.fixture(scope="session")
def chromium_browser() -> Iterator[object]:
    """Headless Debian Chromium driven by Playwright (skipped off CI when it is absent).

    Playwright's sync API keeps an event loop in this process once started: the in-process
    app tests (``test_app.py``) must run before the first browser test, which the file names'
    order gives (browser test files are named ``test_browser*`` or ``test_*_browser``). Tests
    that run a coroutine use :func:`tests.aio.run` (its own thread), never ``asyncio.run``.
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
