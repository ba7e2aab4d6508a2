"""The real page in headless Chromium, served by a real ``vp3d serve`` subprocess: loading,
payload, offline, URL parameters, keyboard, "Save picture". Helpers here are shared with
``test_story_browser.py``."""

from __future__ import annotations

import io
import time
from dataclasses import dataclass, field
from urllib.parse import urlparse

import numpy as np
import pytest
from PIL import Image

pytestmark = pytest.mark.browser

SCENE_BUDGET_BYTES = 5_000_000  # DESIGN.md: default scene sent to the browser <= 5 MB
# Software WebGL on two cores draws the first frame in seconds, not milliseconds.
RENDER_TIMEOUT_S = 90.0


@dataclass
class PageRecord:
    """A loaded page and what it did while loading and afterwards."""

    page: object
    context: object
    console_errors: list[str] = field(default_factory=list)
    page_errors: list[str] = field(default_factory=list)
    request_hosts: set[str] = field(default_factory=set)
    websocket_bytes: int = 0
    reloads: int = 0  # times open_page had to reload before the 3D view drew

    def close(self) -> None:
        self.context.close()

    def assert_no_errors(self) -> None:
        assert self.page_errors == []
        assert self.console_errors == []


def _is_known_paraview_405(message: object) -> bool:
    # Without a launcher in front of it, trame's page POSTs /paraview/ once and the browser
    # logs the 405 answer as a console error. That one is expected; nothing else is.
    url = (message.location or {}).get("url", "")
    return urlparse(url).path.rstrip("/").endswith("/paraview") and "405" in message.text


def wait_for(predicate, timeout_s: float, what: str, interval_s: float = 0.2):
    deadline = time.monotonic() + timeout_s
    while True:
        value = predicate()
        if value is not None and value is not False:
            return value
        if time.monotonic() > deadline:
            pytest.fail(f"timed out after {timeout_s:.0f} s waiting for {what}")
        time.sleep(interval_s)


def canvas_pixels(page: object) -> np.ndarray:
    png = page.locator("#vp3d-view canvas").first.screenshot()
    return np.asarray(Image.open(io.BytesIO(png)).convert("RGB"), dtype=np.float64)


BACKGROUND_RGB = np.array([0x1D, 0x23, 0x2C], dtype=float)  # vp3d.app.scene3d.BACKGROUND


def canvas_drawn(page: object) -> bool:
    """Something other than the empty background covers a real part of the 3D view."""
    rgb = canvas_pixels(page)
    return bool((np.abs(rgb - BACKGROUND_RGB).max(axis=2) > 24).mean() > 0.02 and rgb.std() > 3)


def step_counter(page: object) -> tuple[int, int]:
    words = page.locator("#vp3d-stepcount").inner_text().split()
    return int(words[1]), int(words[3])  # "Step 3 of 11"


def ready(page: object) -> bool:
    return (page.locator("#vp3d-building").count() == 0
            and bool(page.locator("#vp3d-step-title").inner_text().strip()))


def open_page(browser: object, url: str, *, size=(1280, 720), accept_downloads=False,
              touch: bool = False, **context_options) -> PageRecord:
    """Open ``url``, wait until the model is built and the 3D view has drawn.

    ``touch``: a touch-screen tablet or phone, no mouse; ``context_options`` go to Playwright's
    ``new_context`` (``reduced_motion``...).
    """
    if touch:
        context_options = {"has_touch": True, "is_mobile": True, **context_options}
    context = browser.new_context(viewport={"width": size[0], "height": size[1]},
                                  accept_downloads=accept_downloads, **context_options)
    page = context.new_page()
    record = PageRecord(page, context)

    def on_console(message):
        if message.type == "error" and not _is_known_paraview_405(message):
            record.console_errors.append(f"{message.text} @ {message.location}")

    def on_websocket(websocket):
        def count(payload):
            record.websocket_bytes += len(payload)

        websocket.on("framereceived", count)

    page.on("console", on_console)
    page.on("pageerror", lambda error: record.page_errors.append(f"{error} | {getattr(error, 'stack', '')}"[:1500]))
    page.on("request", lambda request: record.request_hosts.add(urlparse(request.url).hostname or ""))
    page.on("websocket", on_websocket)
    page.goto(url, wait_until="load")
    page.locator("#vp3d-title").wait_for(timeout=30_000)
    query = "?" + url.split("?", 1)[1] if "?" in url else ""
    wait_for(lambda: page.evaluate("document.querySelector('#vp3d-root').dataset.query") == query,
             30, "the page to apply its URL parameters")
    wait_for(lambda: ready(page), RENDER_TIMEOUT_S, "the model to be built")
    try:
        wait_for(lambda: canvas_drawn(page), RENDER_TIMEOUT_S / 2, "the spine to be drawn", 0.5)
    except pytest.fail.Exception:
        # Seen once in a fresh-clone run: the view stayed empty on a busy 2-core machine while
        # the page had no error. Reload once, as a person would; errors of the first load stay
        # in the record, so assert_no_errors() still sees them.
        record.reloads += 1
        page.reload(wait_until="load")
        wait_for(lambda: ready(page), RENDER_TIMEOUT_S, "the model to be built after a reload")
        wait_for(lambda: canvas_drawn(page), RENDER_TIMEOUT_S,
                 f"the spine to be drawn in the 3D view (after a reload; page errors: "
                 f"{record.page_errors[:3]}, console errors: {record.console_errors[:3]})", 0.5)
    return record


@pytest.fixture(scope="module")
def default_page(chromium_browser: object, vp3d_server: str):  # browser first: skip before serving
    record = open_page(chromium_browser, vp3d_server)
    yield record
    record.close()


def test_title_and_first_step(default_page):
    page = default_page.page
    assert page.title() == "vp3d \u2014 Vertebroplasty in 3D"
    assert page.locator("#vp3d-title").inner_text() == "Vertebroplasty, explained"
    assert step_counter(page)[0] == 1
    region = page.get_by_role("region", name="Narration")
    assert region.get_attribute("aria-live") == "polite"
    assert "spine" in region.inner_text()
    assert page.locator(".vp3d-source").count() > 0


def test_scene_fits_the_payload_budget(default_page):
    assert 0 < default_page.websocket_bytes <= SCENE_BUDGET_BYTES, (
        f"{default_page.websocket_bytes / 1e6:.2f} MB over the websocket"
    )


def test_works_offline(default_page):
    assert default_page.request_hosts <= {"127.0.0.1", "localhost"}, default_page.request_hosts


def test_keyboard_reaches_every_control_and_arrows_move_steps(chromium_browser, vp3d_server):
    record = open_page(chromium_browser, vp3d_server + "?step=3")  # a step with a timeline
    page = record.page
    try:
        assert step_counter(page)[0] == 3
        page.evaluate("document.activeElement && document.activeElement.blur()")
        reached = set()
        describe = """() => { const e = document.activeElement; if (!e) return '';
            const owner = e.closest('[id^=vp3d-]'); return (owner ? owner.id : '') + '|' +
            (e.getAttribute('role') || e.tagName.toLowerCase()) + '|' + (e.innerText || '').trim(); }"""
        for _ in range(60):
            page.keyboard.press("Tab")
            reached.add(page.evaluate(describe))
        ids = {r.split("|")[0] for r in reached}
        for control in ("vp3d-choice-level", "vp3d-choice-grade", "vp3d-choice-kind",
                        "vp3d-choice-procedure", "vp3d-choice-audience", "vp3d-choice-lang",
                        "vp3d-steps", "vp3d-prev",
                        "vp3d-play", "vp3d-next", "vp3d-mute", "vp3d-save"):
            assert control in ids, f"Tab never reached {control}: {sorted(ids)}"
        assert any("|slider|" in r for r in reached), "Tab never reached the timeline slider"
        page.evaluate("document.activeElement && document.activeElement.blur()")
        page.keyboard.press("ArrowRight")
        wait_for(lambda: step_counter(page)[0] == 4, 10, "ArrowRight to move to step 4")
        page.keyboard.press("ArrowLeft")
        page.keyboard.press("ArrowLeft")
        wait_for(lambda: step_counter(page)[0] == 2, 10, "ArrowLeft twice to move to step 2")
        record.assert_no_errors()
    finally:
        record.close()


def test_bad_url_values_show_a_message_and_fall_back(chromium_browser, vp3d_server):
    record = open_page(chromium_browser, vp3d_server + "?level=Q9&grade=NaN&audience=student&step=zzz")
    page = record.page
    try:
        notice = page.locator("#vp3d-notice")
        notice.wait_for(timeout=10_000)
        text = notice.inner_text()
        assert "level must be one of" in text and "grade" in text and "step" in text
        assert page.locator("#vp3d-level-label").inner_text().startswith("L1")
        assert step_counter(page)[0] == 1
        assert "Spinal anatomy" in page.locator("#vp3d-step-title").inner_text()  # student words
        record.assert_no_errors()
    finally:
        record.close()


def test_save_picture_downloads_a_png_named_for_the_level(chromium_browser, vp3d_server, tmp_path):
    record = open_page(chromium_browser, vp3d_server + "?level=L2&audience=patient",
                       accept_downloads=True)
    page = record.page
    try:
        wait_for(lambda: page.locator("#vp3d-level-label").inner_text().startswith("L2"), 30,
                 "the L2 model")
        with page.expect_download(timeout=30_000) as info:
            page.get_by_role("button", name="Save picture").click()
        download = info.value
        assert "L2" in download.suggested_filename and download.suggested_filename.endswith(".png")
        path = tmp_path / download.suggested_filename
        download.save_as(path)
        image = Image.open(path)
        assert image.format == "PNG" and image.width > 100
        gray = np.asarray(image.convert("L")).astype(float)
        assert gray.std() > 10  # a picture, not a blank
        # The spine is in it (bright bone on the dark background), and the caption band below.
        assert (gray[: int(0.9 * gray.shape[0])] > 150).mean() > 0.01
        record.assert_no_errors()
    finally:
        record.close()


def test_the_3d_view_follows_the_story_by_deltas(default_page):
    """Once the view has shown its first scene the server sends only changes (a delta per
    update, never the whole scene again, and unchanged meshes described from the session's
    cache): the picture must still follow. The fracture step collapses the level with the
    camera still, so only the meshes change: paused at its start, then its end, then its
    start again, the picture changes and comes back."""
    page = default_page.page
    wait_for(lambda: page.evaluate("window.trame.state.get('scene_on_page')") is True, 30,
             "the view to say it shows the scene")
    fracture = 3
    while step_counter(page)[0] != fracture:
        page.keyboard.press("ArrowRight" if step_counter(page)[0] < fracture else "ArrowLeft")
        time.sleep(0.2)
    wait_for(lambda: ready(page), 60, "the fracture step")
    if page.evaluate("window.trame.state.get('playing')"):
        page.evaluate("window.trame.trigger('toggle_play')")
    wait_for(lambda: page.evaluate("window.trame.state.get('playing')") is False, 20, "the pause")

    def settled_at(time_s: float) -> np.ndarray:
        page.evaluate(f"window.trame.trigger('seek', [{time_s}])")
        time.sleep(1.0)
        previous = canvas_pixels(page).astype(float)
        for _ in range(30):  # until two pictures half a second apart agree
            time.sleep(0.5)
            now = canvas_pixels(page).astype(float)
            if np.abs(now - previous).mean() < 0.5:
                return now
            previous = now
        return previous

    intact = settled_at(0.0)
    collapsed = settled_at(6.0)
    again = settled_at(0.0)
    assert np.abs(collapsed - intact).mean() > 2 * max(np.abs(again - intact).mean(), 0.3), (
        np.abs(collapsed - intact).mean(), np.abs(again - intact).mean())
    assert np.abs(again - intact).mean() < 1.0


def test_no_console_errors(default_page):
    default_page.assert_no_errors()
