"""Touch screens, phones and the kiosk in a real browser: the choices fold into a menu on a
phone, a swipe moves between steps, the kiosk's "Start again", the header's choices uncut at
1280 px, and the browser's reduced-motion setting reaching the server."""

from __future__ import annotations

import pytest

from tests.test_browser import open_page, wait_for

pytestmark = pytest.mark.browser

PHONE = dict(size=(390, 844), has_touch=True, is_mobile=True)


def _step(page) -> str:
    return page.locator("#vp3d-stepcount").inner_text().strip()


def _swipe(page, selector: str, dx: float) -> None:
    """A one-finger horizontal swipe over ``selector``, sent as real touch events (CDP)."""
    page.locator(selector).scroll_into_view_if_needed()
    box = page.locator(selector).bounding_box()
    x0, y = box["x"] + box["width"] / 2 - dx / 2, box["y"] + min(box["height"] / 2, 80)
    cdp = page.context.new_cdp_session(page)
    cdp.send("Input.dispatchTouchEvent", {"type": "touchStart", "touchPoints": [{"x": x0, "y": y}]})
    for k in range(1, 6):
        cdp.send("Input.dispatchTouchEvent", {"type": "touchMove", "touchPoints": [{"x": x0 + dx * k / 5, "y": y}]})
    cdp.send("Input.dispatchTouchEvent", {"type": "touchEnd", "touchPoints": []})
    cdp.detach()


def test_on_a_phone_the_choices_fold_into_a_menu(chromium_browser, vp3d_server):
    record = open_page(chromium_browser, vp3d_server + "?audience=patient", **PHONE)
    try:
        page = record.page
        toggle = page.locator("#vp3d-choices-toggle")
        assert toggle.is_visible() and toggle.get_attribute("aria-expanded") == "false"
        assert "L1" in toggle.inner_text() and "grade 2" in toggle.inner_text()
        assert not page.locator("#vp3d-choices").is_visible()
        toggle.tap()
        wait_for(lambda: page.locator("#vp3d-choices").is_visible(), 10, "the choices to open")
        assert toggle.get_attribute("aria-expanded") == "true"
        for name in ("level", "grade", "kind", "procedure", "audience"):
            box = page.locator(f".vp3d-choice-{name}").bounding_box()
            assert box and box["height"] >= 40 and box["x"] >= 0 and box["x"] + box["width"] <= 390, (name, box)
        toggle.tap()
        wait_for(lambda: not page.locator("#vp3d-choices").is_visible(), 10, "the choices to fold")
        record.assert_no_errors()
    finally:
        record.close()


def test_a_swipe_on_the_narration_moves_between_steps(chromium_browser, vp3d_server):
    record = open_page(chromium_browser, vp3d_server + "?audience=patient", **PHONE)
    try:
        page = record.page
        assert _step(page).startswith("Step 1 of")
        _swipe(page, "#vp3d-narration", -200)  # right to left: the next step
        wait_for(lambda: _step(page).startswith("Step 2 of"), 20, "a left swipe to show step 2")
        _swipe(page, "#vp3d-narration", 200)
        wait_for(lambda: _step(page).startswith("Step 1 of"), 20, "a right swipe to show step 1")
        _swipe(page, "#vp3d-narration", -30)  # too short to be a swipe (a scroll or a tap)
        page.wait_for_timeout(1500)
        assert _step(page).startswith("Step 1 of")
        # On the 3-D view a drag rotates the spine and moves no step.
        for dx in (-200, 200):
            _swipe(page, "#vp3d-view", dx)
            page.wait_for_timeout(1500)
            assert page.url.startswith(vp3d_server) and _step(page).startswith("Step 1 of")
        record.assert_no_errors()
    finally:
        record.close()


def test_the_kiosk_starts_again_at_a_touch(chromium_browser, kiosk_server):
    record = open_page(chromium_browser, kiosk_server, size=(1280, 800), has_touch=True)
    try:
        page = record.page
        again = page.locator("#vp3d-start-again")
        assert again.is_visible()
        box = again.bounding_box()
        assert box["height"] >= 56 and box["y"] + box["height"] <= 800, box
        assert page.locator("#vp3d-steps").is_hidden()  # the story plays itself at an event
        page.locator("#vp3d-next").tap()
        page.locator("#vp3d-next").tap()
        wait_for(lambda: not _step(page).startswith("Step 1 of"), 20, "the kiosk to move on")
        page.locator("#vp3d-play").tap()  # pause
        again.tap()
        wait_for(lambda: _step(page).startswith("Step 1 of"), 20, "Start again to show step 1")
        wait_for(lambda: page.locator("#vp3d-play").inner_text().strip() == "Pause", 10, "the story to play")
        # The narration and the controls fit a 1280 x 800 screen.
        controls = page.locator("#vp3d-controls").bounding_box()
        assert controls["y"] + controls["height"] <= 800
        record.assert_no_errors()
    finally:
        record.close()


@pytest.mark.parametrize("query", ["audience=patient", "audience=student", "audience=patient&lang=es",
                                   "audience=student&lang=es&procedure=kyphoplasty&kind=biconcave"])
def test_the_header_choices_are_not_cut_at_1280(chromium_browser, vp3d_server, query):
    record = open_page(chromium_browser, vp3d_server + f"?{query}", size=(1280, 720))
    try:
        cut = record.page.evaluate("""() => [...document.querySelectorAll('#vp3d-choices .v-select__selection-text')]
            .filter((el) => el.scrollWidth > el.clientWidth + 1).map((el) => el.textContent)""")
        shown = record.page.evaluate("""() => [...document.querySelectorAll('#vp3d-choices .v-select__selection-text')]
            .map((el) => el.textContent)""")
        assert len(shown) == 6 and cut == [], (shown, cut)  # level ... audience, language
    finally:
        record.close()


def test_reduced_motion_reaches_the_server(chromium_browser, vp3d_server):
    record = open_page(chromium_browser, vp3d_server, reduced_motion="reduce")
    try:
        page = record.page
        wait_for(lambda: page.evaluate("window.trame.state.get('reduced_motion')") is True, 20,
                 "the page to send the reduced-motion setting")
    finally:
        record.close()
    record = open_page(chromium_browser, vp3d_server, reduced_motion="no-preference")
    try:
        page = record.page
        page.wait_for_timeout(1000)
        assert page.evaluate("window.trame.state.get('reduced_motion')") is False
    finally:
        record.close()


def _camera(page) -> dict:
    """The browser's own vtk.js camera (the view renders client-side): position and distance."""
    return page.evaluate("""() => { const c = window.trame.refs.vp3d_view.getCamera();
        const d = c.position.map((v, i) => v - c.focalPoint[i]);
        return {position: c.position.map((v) => Math.round(v * 1000) / 1000),
                distance: Math.hypot(...d)}; }""")


def _gesture(page, frames: list[list[tuple[float, float]]]) -> None:
    """Fingers down at ``frames[0]``, moved through the rest, then lifted (one CDP session)."""
    cdp = page.context.new_cdp_session(page)
    for k, points in enumerate(frames):
        cdp.send("Input.dispatchTouchEvent", {"type": "touchStart" if k == 0 else "touchMove",
                                              "touchPoints": [{"x": x, "y": y, "id": i}
                                                              for i, (x, y) in enumerate(points)]})
    cdp.send("Input.dispatchTouchEvent", {"type": "touchEnd", "touchPoints": []})
    cdp.detach()


def test_the_3d_view_turns_with_one_finger_and_zooms_with_two(chromium_browser, vp3d_server):
    record = open_page(chromium_browser, vp3d_server + "?audience=patient", **PHONE)
    try:
        page = record.page
        page.locator("#vp3d-view").scroll_into_view_if_needed()
        box = page.locator("#vp3d-view").bounding_box()
        cx, cy = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
        before = _camera(page)
        _gesture(page, [[(cx - 60 + 20 * k, cy)] for k in range(8)])
        wait_for(lambda: _camera(page)["position"] != before["position"], 10, "a drag to turn the view")
        turned = _camera(page)
        assert abs(turned["distance"] - before["distance"]) < 0.05 * before["distance"]  # turned, not zoomed
        _gesture(page, [[(cx - 30 - 12 * k, cy), (cx + 30 + 12 * k, cy)] for k in range(8)])
        wait_for(lambda: _camera(page)["distance"] < 0.95 * turned["distance"], 10, "a pinch to zoom in")
        assert page.url.startswith(vp3d_server) and _step(page).startswith("Step 1 of")
    finally:
        record.close()


@pytest.mark.parametrize("query", ["?audience=patient", "?audience=student", "?audience=student&mode=practice"])
def test_every_id_on_the_page_is_unique(chromium_browser, vp3d_server, query):
    record = open_page(chromium_browser, vp3d_server + query)
    try:
        twice = record.page.evaluate("""() => { const n = {};
            document.querySelectorAll('[id]').forEach((e) => { n[e.id] = (n[e.id] || 0) + 1; });
            return Object.entries(n).filter(([, k]) => k > 1); }""")
        assert twice == []
        thumb = record.page.locator("#vp3d-controls [role=slider]")
        if "practice" not in query:
            assert thumb.get_attribute("aria-label") or thumb.get_attribute("aria-labelledby"), "unnamed slider"
    finally:
        record.close()
