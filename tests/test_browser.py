"""The real page in headless Chromium, served by a real ``vp3d serve`` subprocess."""

from __future__ import annotations

import io
import time
from dataclasses import dataclass, field
from urllib.parse import urlparse

import numpy as np
import pytest
from PIL import Image

pytestmark = pytest.mark.browser

LEVELS = ["T10", "T11", "T12", "L1", "L2", "L3", "L4", "L5"]
SCENE_BUDGET_BYTES = 5_000_000  # DESIGN.md: default scene sent to the browser <= 5 MB
# Software WebGL on two cores draws the first frame in seconds, not milliseconds.
RENDER_TIMEOUT_S = 90.0


@dataclass
class PageRecord:
    """A loaded page and what it did while loading and afterwards."""

    page: object
    console_errors: list[str] = field(default_factory=list)
    page_errors: list[str] = field(default_factory=list)
    request_hosts: set[str] = field(default_factory=set)
    websocket_bytes: int = 0


def _is_known_paraview_405(message: object) -> bool:
    # Without a launcher in front of it, trame's page POSTs /paraview/ once and the browser
    # logs the 405 answer as a console error. That one is expected; nothing else is.
    url = (message.location or {}).get("url", "")
    return urlparse(url).path.rstrip("/").endswith("/paraview") and "405" in message.text


def _canvas_pixels(page: object) -> np.ndarray:
    png = page.locator("#vp3d-view canvas").first.screenshot()
    return np.asarray(Image.open(io.BytesIO(png)).convert("RGB"), dtype=np.float64)


def _amber_mask(rgb: np.ndarray) -> np.ndarray:
    """Pixels of the highlighted (amber) level: strong red, less green, little blue.

    Ivory bone and the pale yellow cord keep green and blue much closer to red.
    """
    r, g, b = rgb[..., 0], rgb[..., 1], rgb[..., 2]
    return (r > 90) & (g < 0.8 * r) & (b < 0.45 * r)


def _wait_for(predicate, timeout_s: float, what: str):
    deadline = time.monotonic() + timeout_s
    while True:
        value = predicate()
        if value is not None and value is not False:
            return value
        if time.monotonic() > deadline:
            pytest.fail(f"timed out after {timeout_s:.0f} s waiting for {what}")
        time.sleep(0.5)


def _spine_drawn(page: object) -> np.ndarray | None:
    rgb = _canvas_pixels(page)
    gray = rgb.mean(axis=2)
    return rgb if gray.std() > 10 and _amber_mask(rgb).mean() > 0.001 else None


@pytest.fixture(scope="module")
def loaded_page(chromium_browser: object, vp3d_server: str):  # browser first: skip before serving
    context = chromium_browser.new_context(viewport={"width": 1280, "height": 720})
    page = context.new_page()
    record = PageRecord(page)

    def on_console(message):
        if message.type == "error" and not _is_known_paraview_405(message):
            record.console_errors.append(f"{message.text} @ {message.location}")

    def on_websocket(websocket):
        def count(payload):
            record.websocket_bytes += len(payload)

        websocket.on("framereceived", count)

    page.on("console", on_console)
    page.on("pageerror", lambda error: record.page_errors.append(str(error)))
    page.on("request", lambda request: record.request_hosts.add(urlparse(request.url).hostname or ""))
    page.on("websocket", on_websocket)
    page.goto(vp3d_server, wait_until="load")
    page.locator("#vp3d-title").wait_for(timeout=30_000)
    _wait_for(lambda: _spine_drawn(page), RENDER_TIMEOUT_S, "the spine to be drawn in the 3D view")
    yield record
    context.close()


def test_title_bar(loaded_page):
    assert loaded_page.page.locator("#vp3d-title").inner_text() == "vp3d — Vertebroplasty in 3D"
    assert loaded_page.page.title() == "vp3d — Vertebroplasty in 3D"


def test_canvas_shows_the_spine_with_L1_highlighted(loaded_page):
    rgb = _canvas_pixels(loaded_page.page)
    gray = rgb.mean(axis=2)
    background = np.median(gray)
    assert gray.std() > 10, f"canvas looks blank (grey std {gray.std():.1f})"
    # The spine covers a real part of the view, not a few stray pixels.
    assert (np.abs(gray - background) > 40).mean() > 0.02
    # One level is drawn in amber (L1 by default).
    assert _amber_mask(rgb).mean() > 0.001


def test_level_labels_top_to_bottom(loaded_page):
    page = loaded_page.page
    chips = page.locator(".vp3d-level")
    assert [text.strip() for text in chips.all_inner_texts()] == LEVELS
    assert page.get_by_text("L1", exact=True).first.is_visible()
    assert "1st lumbar vertebra" in page.locator("#vp3d-selected").inner_text()


def test_clicking_a_level_moves_the_highlight(loaded_page):
    page = loaded_page.page
    rows_before = np.nonzero(_amber_mask(_canvas_pixels(page)))[0]
    page.locator(".vp3d-level", has_text="T12").click()
    page.locator("#vp3d-selected", has_text="12th thoracic vertebra").wait_for(timeout=10_000)

    def moved_up():
        rows = np.nonzero(_amber_mask(_canvas_pixels(page)))[0]
        # T12 sits above L1, so the amber region's centre moves up the screen (smaller row).
        return len(rows) > 0 and rows.mean() < rows_before.mean() - 10

    _wait_for(moved_up, 30.0, "the amber highlight to move from L1 up to T12")
    page.locator(".vp3d-level", has_text="L1").click()
    page.locator("#vp3d-selected", has_text="1st lumbar vertebra").wait_for(timeout=10_000)


def test_scene_fits_the_payload_budget(loaded_page):
    assert 0 < loaded_page.websocket_bytes <= SCENE_BUDGET_BYTES, (
        f"{loaded_page.websocket_bytes / 1e6:.2f} MB over the websocket"
    )


def test_works_offline(loaded_page):
    assert loaded_page.request_hosts <= {"127.0.0.1", "localhost"}, loaded_page.request_hosts


def test_no_console_errors(loaded_page):
    # Run last in this module: it also covers the interactions above.
    assert loaded_page.page_errors == []
    assert loaded_page.console_errors == []
