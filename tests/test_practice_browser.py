"""Needle and cement practice on the real page: a student opens Practice, aims with the keyboard
and by dragging on the AP image, advances in small steps, sees a medial breach, injects, and
gets a score; anatomy labels switch on and off. Real server, headless Chromium."""

from __future__ import annotations

import base64
import io
import json
import time

import numpy as np
import pytest
from PIL import Image

from tests.test_browser import canvas_drawn, open_page, wait_for

pytestmark = pytest.mark.browser


def _state(page, key: str):
    return page.evaluate(f"window.trame.state.get({json.dumps(key)})")


def _image(page, view: str) -> np.ndarray:
    src = page.locator(f"img.vp3d-pr-{view}").get_attribute("src")
    data = base64.b64decode(src.split(",", 1)[1])
    return np.asarray(Image.open(io.BytesIO(data)).convert("L"), dtype=float)


def _feedback(page) -> str:
    return page.locator("#vp3d-pr-feedback").inner_text()


def _advance_to(page, depth_mm: float) -> None:
    """Click +5 mm (then +1 mm) until the needle is within 1 mm of ``depth_mm``."""
    for _ in range(60):
        now = _state(page, "pr_depth_mm")
        if now >= depth_mm - 1.0:
            return
        button = "#vp3d-pr-advance-5" if depth_mm - now >= 5 else "#vp3d-pr-advance-1"
        page.locator(button).click()
        wait_for(lambda: _state(page, "pr_depth_mm") > now, 10, "the needle to advance")
    pytest.fail(f"the needle did not reach {depth_mm} mm")


@pytest.fixture(scope="module")
def practice_page(chromium_browser, vp3d_server):
    record = open_page(chromium_browser, vp3d_server + "?audience=student", size=(1600, 900))
    page = record.page
    page.locator("#vp3d-mode-practice").click()
    wait_for(lambda: page.locator("img.vp3d-pr-ap").count() == 1 and _state(page, "pr_ready"), 60,
             "the practice images")
    yield record
    record.close()


def test_planned_path_reaches_the_target_without_breach(practice_page):
    page = practice_page.page
    assert page.locator("#vp3d-steps").is_hidden()
    assert page.locator("#vp3d-pr-guide").is_visible()
    before_ap, before_lat = _image(page, "ap"), _image(page, "lateral")
    assert before_ap.std() > 10 and before_lat.std() > 10  # real X-ray images, not blank
    target = _state(page, "pr_target_depth_mm")
    assert 40 < target < 160
    _advance_to(page, target)
    wait_for(lambda: "Tip in the vertebral body" in _feedback(page), 10, "the tip to be reported in the body")
    assert page.locator("#vp3d-pr-alert").count() == 0
    text = _feedback(page)
    assert "Pedicle wall clearance" in text and "mm from the target" in text
    after_ap = _image(page, "ap")
    assert np.abs(after_ap - before_ap).mean() > 0.5  # the needle moved on the image
    shots = _state(page, "pr_shots")
    assert shots >= 2 * 10  # every step took AP and lateral
    # Angles are locked while the tip is in bone.
    assert page.locator("#vp3d-pr-locked").is_visible()
    assert page.locator("input[name='Medial angle (transverse plane)']").is_disabled()
    assert page.get_by_role("slider", name="Medial angle (transverse plane)").count() == 1
    assert canvas_drawn(page)

    # Cement in 0.5 mL steps: the counter rises and the fill darkens the lateral image.
    lateral_before = _image(page, "lateral")
    for n in range(1, 7):
        page.locator("#vp3d-pr-inject").click()
        wait_for(lambda: _state(page, "pr_cement_ml") >= 0.5 * n - 1e-6, 15, f"{0.5 * n} mL in")
    assert page.locator("#vp3d-pr-ml").inner_text().startswith("3.0")
    lateral_after = _image(page, "lateral")
    assert lateral_after.mean() < lateral_before.mean() - 0.3
    assert "Cement 3.0 mL" in _feedback(page)

    page.locator("#vp3d-pr-score").click()
    card = page.locator("#vp3d-pr-score-card")
    card.wait_for(timeout=10_000)
    text = card.inner_text()
    lower = text.lower()
    for name in ("pedicle breach", "tip position", "fluoroscopy shots", "cement volume", "cement leaks"):
        assert name in lower
    assert "Belkoff" in text and "Yeom" in text
    assert "none" in lower.split("pedicle breach", 1)[1][:80]
    assert card.locator(".vp3d-score-item").count() == 5
    page.locator("#vp3d-pr-score-close").click()
    wait_for(lambda: card.count() == 0, 10, "the score to close")
    practice_page.assert_no_errors()


def test_medial_aim_breaches_and_is_flagged(practice_page):
    page = practice_page.page
    page.locator("#vp3d-pr-reset").click()
    wait_for(lambda: _state(page, "pr_depth_mm") == 0 and _state(page, "pr_cement_ml") == 0, 10, "a fresh start")
    planned = _state(page, "pr_medial_deg")
    # Keyboard: the medial-angle slider, found by its accessible name; Page Up turns it a lot,
    # and the value is sent once the keys rest (one new pair of images, not one per press).
    thumb = page.get_by_role("slider", name="Medial angle (transverse plane)")
    thumb.focus()
    shots = _state(page, "pr_shots")
    page.keyboard.press("PageUp")
    wait_for(lambda: _state(page, "pr_shots") == shots + 2, 10, "one pair of images for the new aim")
    assert _state(page, "pr_medial_deg") >= planned + 10
    _advance_to(page, _state(page, "pr_target_depth_mm") - 10)
    alert = page.locator("#vp3d-pr-alert")
    wait_for(lambda: alert.count() == 1, 10, "a breach warning")
    words = alert.inner_text().lower()
    assert "medial" in words
    assert alert.get_attribute("role") == "alert"
    # Re-aiming in bone is refused with a message that says what to do.
    page.evaluate("window.trame.trigger('practice_aim', ['medial_deg', 0])")
    wait_for(lambda: page.locator("#vp3d-error").count() == 1, 10, "the refusal")
    assert "withdraw" in page.locator("#vp3d-error").inner_text().lower()
    page.locator("#vp3d-error button").first.click()
    practice_page.assert_no_errors()


def test_drag_on_ap_image_and_carm_rotation(practice_page):
    page = practice_page.page
    page.locator("#vp3d-pr-reset").click()
    wait_for(lambda: _state(page, "pr_depth_mm") == 0, 10, "a fresh start")
    before = _state(page, "pr_medial_deg")
    box = page.locator("img.vp3d-pr-ap").bounding_box()
    x, y = box["x"] + box["width"] * 0.4, box["y"] + box["height"] * 0.5
    page.mouse.move(x, y)
    page.mouse.down()
    page.mouse.move(x + box["width"] * 0.2, y, steps=5)  # towards the viewer's right = patient's left
    page.mouse.up()
    wait_for(lambda: _state(page, "pr_medial_deg") != before, 10, "the drag to re-aim the needle")
    assert _state(page, "pr_medial_deg") > before  # right needle: dragging to the left side is medial

    shots = _state(page, "pr_shots")
    ap = _image(page, "ap")
    page.evaluate("window.trame.trigger('practice_carm', ['ap', 'lao_deg', 25])")
    wait_for(lambda: _state(page, "pr_shots") == shots + 1, 10, "the new view to be counted once")
    assert np.abs(_image(page, "ap") - ap).mean() > 1.0
    assert "+25" in page.locator("#vp3d-pr-fluoro figcaption").first.inner_text()
    assert "earlier image" not in page.locator("#vp3d-pr-fluoro").inner_text()  # lateral unchanged

    # Only AP after each move: the lateral image is kept and marked as earlier.
    page.locator("#vp3d-pr-views-ap").click()
    wait_for(lambda: _state(page, "pr_views") == "ap", 10, "AP only")
    wait_for(lambda: page.locator("#vp3d-pr-views-ap").get_attribute("aria-pressed") == "true", 10, "AP pressed")
    shots = _state(page, "pr_shots")
    page.locator("#vp3d-pr-advance-5").click()
    wait_for(lambda: _state(page, "pr_shots") == shots + 1, 10, "one image per move")
    assert "earlier image" in page.locator("#vp3d-pr-fluoro").inner_text()
    practice_page.assert_no_errors()


def test_bad_practice_calls_get_a_message(practice_page):
    page = practice_page.page
    for name, args, words in [
        ("practice_advance", [float("nan")], "number"),
        ("practice_advance", [1e9], "step_mm"),
        ("practice_advance", ["x" * 5000], "number"),
        ("practice_aim", ["medial_deg", 1e9], "medial_deg"),
        ("practice_aim", ["no_field", 1], "aim field"),
        ("practice_side", [{"a": 1}], "side"),
        ("practice_route", ["sideways"], "route"),
        ("practice_carm", ["ap", "lao_deg", 400], "lao_deg"),
        ("practice_carm", ["top", "lao_deg", 1], "view"),
        ("practice_drag", ["ap", None, 0], "number"),
        ("practice_inject", [-1], "ml"),
        ("practice_views", [[1, 2]], "images"),
        ("practice_advance", [1, 2, 3], "takes"),
    ]:
        page.evaluate("window.trame.state.update({error_message: ''})")
        args_js = json.dumps(args).replace("NaN", "NaN")
        if any(isinstance(a, float) and a != a for a in args):
            args_js = "[NaN]"
        page.evaluate(f"window.trame.trigger({json.dumps(name)}, {args_js})")
        message = wait_for(lambda: page.locator("#vp3d-error").count() > 0 and page.locator("#vp3d-error").inner_text(),
                           10, f"a message for {name}{args!r:.40}")
        assert isinstance(message, str) and words.lower() in message.lower(), (name, args, message)
        assert len(message) < 400
    page.locator("#vp3d-pr-reset").click()
    wait_for(lambda: _state(page, "pr_depth_mm") == 0, 10, "a fresh start")
    page.locator("#vp3d-pr-advance-2").click()
    wait_for(lambda: _state(page, "pr_depth_mm") == 2, 10, "the practice to go on")
    practice_page.assert_no_errors()


def test_anatomy_labels_switch(practice_page):
    page = practice_page.page
    page.locator("#vp3d-mode-story").click()
    wait_for(lambda: page.locator("#vp3d-steps").is_visible(), 10, "the story again")
    page.locator("input#vp3d-part-labels").check()
    wait_for(lambda: page.locator("#vp3d-tags .vp3d-tag").count() >= 6, 15, "the name tags")
    legend = page.locator("#vp3d-legend").inner_text()
    for name in ("Vertebral body", "Pedicle", "Lamina", "Spinous process", "Transverse process"):
        assert name in legend
    time.sleep(1.0)
    shown = page.evaluate("[...document.querySelectorAll('#vp3d-tags .vp3d-tag')]"
                          ".filter(t => getComputedStyle(t).visibility === 'visible').length")
    assert shown >= 3  # tags placed on screen by the page's camera
    page.locator("input#vp3d-part-labels").uncheck()
    wait_for(lambda: page.locator("#vp3d-tags").count() == 0, 10, "the tags to go")
    assert "Pedicle" not in page.locator("#vp3d-legend").inner_text()
    practice_page.assert_no_errors()


def _box_overlap(a: dict, b: dict) -> float:
    """Area (px²) two bounding boxes share."""
    w = min(a["x"] + a["width"], b["x"] + b["width"]) - max(a["x"], b["x"])
    h = min(a["y"] + a["height"], b["y"] + b["height"]) - max(a["y"], b["y"])
    return max(w, 0) * max(h, 0)


def _to_practice(page) -> None:
    """Open Practice (an earlier test may have left the story on)."""
    page.locator("#vp3d-mode-practice").click()
    wait_for(lambda: page.locator("#vp3d-practice").is_visible() and _state(page, "pr_ready"), 30, "practice")


def _refuse(page, name: str, args: list) -> str:
    """Send a practice call the engine refuses; the message shown."""
    before = page.locator("#vp3d-error").inner_text() if page.locator("#vp3d-error").count() else ""
    page.evaluate(f"window.trame.trigger({json.dumps(name)}, {json.dumps(args)})")
    return wait_for(lambda: page.locator("#vp3d-error").count() == 1
                    and page.locator("#vp3d-error").inner_text() != before
                    and page.locator("#vp3d-error").inner_text(), 10, f"the refusal of {name}")


def test_messages_replace_each_other_clear_and_never_cover_the_alert(practice_page):
    """A refusal's message goes on the next accepted action, on Start over and on a new level;
    a second refusal replaces the first; the message sits under the breach alert, not over it."""
    page = practice_page.page
    _to_practice(page)
    page.locator("#vp3d-pr-reset").click()
    wait_for(lambda: _state(page, "pr_depth_mm") == 0 and _state(page, "pr_cement_ml") == 0, 10, "a fresh start")
    # Injecting at the skin is refused; the next accepted action (advancing) clears the message.
    assert "skin" in _refuse(page, "practice_inject", [0.5]).lower()
    page.locator("#vp3d-pr-advance-2").click()
    wait_for(lambda: page.locator("#vp3d-error").count() == 0, 10, "the message to clear on an accepted action")
    assert _state(page, "error_message") == ""
    # A medial breach raises the alert; a refusal then shows beside it, both in full view.
    planned = _state(page, "pr_medial_deg")
    page.locator("#vp3d-pr-withdraw").click()
    wait_for(lambda: _state(page, "pr_depth_mm") == 0, 10, "the needle out")
    page.evaluate(f"window.trame.trigger('practice_aim', ['medial_deg', {planned + 14}])")
    wait_for(lambda: _state(page, "pr_medial_deg") >= planned + 13, 10, "the medial aim")
    _advance_to(page, _state(page, "pr_target_depth_mm") - 10)
    alert = page.locator("#vp3d-pr-alert")
    wait_for(lambda: alert.count() == 1, 10, "a breach warning")
    first = _refuse(page, "practice_aim", ["medial_deg", 0])
    assert "withdraw" in first.lower()
    second = _refuse(page, "practice_inject", [0.7])
    assert "0.5 mL steps" in second and page.locator("#vp3d-error").count() == 1  # replaced, not stacked
    error_box, alert_box = page.locator("#vp3d-error").bounding_box(), alert.bounding_box()
    assert _box_overlap(error_box, alert_box) == 0, (error_box, alert_box)
    view = page.locator("#vp3d-view").bounding_box()
    for box in (error_box, alert_box):  # both inside the 3-D view, on screen
        assert box["y"] >= view["y"] and box["y"] + box["height"] <= view["y"] + view["height"]
    # Start over clears it.
    page.locator("#vp3d-pr-reset").click()
    wait_for(lambda: page.locator("#vp3d-error").count() == 0, 10, "the message to clear on Start over")
    # So does a change of level (the practice starts over on the new model).
    _refuse(page, "practice_inject", [0.5])
    page.evaluate("window.trame.state.update({level: 'L2'})")
    wait_for(lambda: _state(page, "pr_ready") and not _state(page, "building")
             and page.locator("#vp3d-error").count() == 0, 120, "the new level without the old message")
    page.evaluate("window.trame.state.update({level: 'L1'})")
    wait_for(lambda: _state(page, "pr_ready") and not _state(page, "building")
             and _state(page, "level_label").startswith("L1"), 120, "L1 again")
    practice_page.assert_no_errors()


def test_every_id_on_the_practice_page_is_unique(practice_page):
    """Vuetify gives a slider's label its input's id: the practice labels carry their own."""
    page = practice_page.page
    _to_practice(page)
    ids = page.evaluate("[...document.querySelectorAll('[id]')].map(e => e.id)")
    practice_ids = [i for i in ids if i.startswith("vp3d-pr")]
    assert len(practice_ids) > 20 and len(set(practice_ids)) == len(practice_ids), \
        sorted({i for i in practice_ids if practice_ids.count(i) > 1})
    for slider in page.locator("#vp3d-practice .v-slider").all():
        input_id = slider.locator("input").get_attribute("id")
        assert page.locator(f"#{input_id}-label").count() == 1  # its visible label, named apart
        assert slider.locator(f"[id='{input_id}']").count() == 1


def _touch_drag(page, locator, dx_frac: float, dy_frac: float) -> None:
    """Drag a finger across ``locator`` (Chromium touch events, which the page sees as pointers)."""
    box = locator.bounding_box()
    x, y = box["x"] + box["width"] * 0.5, box["y"] + box["height"] * 0.5
    cdp = page.context.new_cdp_session(page)
    cdp.send("Input.dispatchTouchEvent", {"type": "touchStart", "touchPoints": [{"x": x, "y": y}]})
    for i in range(1, 6):
        cdp.send("Input.dispatchTouchEvent", {"type": "touchMove", "touchPoints": [
            {"x": x + box["width"] * dx_frac * i / 5, "y": y + box["height"] * dy_frac * i / 5}]})
    cdp.send("Input.dispatchTouchEvent", {"type": "touchEnd", "touchPoints": []})
    cdp.detach()


def test_a_tablet_practises_by_touch_alone(chromium_browser, vp3d_server):
    """768 x 1024, touch only: aim by dragging a finger on the AP and lateral images, tap to
    advance into the body, inject and score; nothing needs a mouse or a keyboard."""
    record = open_page(chromium_browser, vp3d_server + "?audience=student", size=(768, 1024), touch=True)
    page = record.page
    assert page.evaluate("matchMedia('(pointer: coarse)').matches")
    page.locator("#vp3d-mode-practice").tap()
    wait_for(lambda: page.locator("img.vp3d-pr-ap").count() == 1 and _state(page, "pr_ready"), 60,
             "the practice images")
    # The images to drag on come straight after the 3-D view, before the controls and the guide.
    tops = {sel: page.locator(sel).bounding_box()["y"]
            for sel in ("#vp3d-view", "#vp3d-pr-fluoro", "#vp3d-practice", "#vp3d-pr-guide")}
    assert tops["#vp3d-view"] < tops["#vp3d-pr-fluoro"] < tops["#vp3d-practice"] < tops["#vp3d-pr-guide"], tops
    medial, caudal = _state(page, "pr_medial_deg"), _state(page, "pr_caudal_deg")
    ap = page.locator("img.vp3d-pr-ap")
    ap.scroll_into_view_if_needed()
    _touch_drag(page, ap, 0.1, 0.0)  # towards the viewer's right: medial for a right needle
    wait_for(lambda: _state(page, "pr_medial_deg") > medial, 10, "a finger drag on AP to re-aim")
    assert _state(page, "pr_medial_deg") == pytest.approx(medial + 3.0, abs=0.3)
    lateral = page.locator("img.vp3d-pr-lateral")
    _touch_drag(page, lateral, 0.0, -0.1)  # up on lateral: less caudal
    wait_for(lambda: _state(page, "pr_caudal_deg") < caudal, 10, "a finger drag on lateral to tilt")
    # Drag back to the plan on the images.
    _touch_drag(page, ap, -0.1, 0.0)
    _touch_drag(page, lateral, 0.0, 0.1)
    wait_for(lambda: abs(_state(page, "pr_medial_deg") - medial) < 0.2
             and abs(_state(page, "pr_caudal_deg") - caudal) < 0.2, 10, "the aim back on the plan")
    # Advance by tapping (44 px targets), inject, score, close.
    advance = page.locator("#vp3d-pr-advance-10")
    advance.scroll_into_view_if_needed()
    assert advance.bounding_box()["height"] >= 44
    target = _state(page, "pr_target_depth_mm")
    for _ in range(40):
        now = _state(page, "pr_depth_mm")
        if now >= target - 1.0:
            break
        page.locator("#vp3d-pr-advance-10" if target - now >= 10 else "#vp3d-pr-advance-1").tap()
        wait_for(lambda: _state(page, "pr_depth_mm") > now, 10, "a tap to advance")
    wait_for(lambda: "Tip in the vertebral body" in _feedback(page), 10, "the tip in the body")
    page.locator("#vp3d-pr-inject").tap()
    wait_for(lambda: _state(page, "pr_cement_ml") == 0.5, 15, "a tap to inject")
    page.locator("#vp3d-pr-score").tap()
    card = page.locator("#vp3d-pr-score-card")
    card.wait_for(timeout=10_000)
    assert card.locator(".vp3d-score-item").count() == 5
    page.locator("#vp3d-pr-score-close").tap()
    wait_for(lambda: card.count() == 0, 10, "the score to close")
    assert page.evaluate("document.documentElement.scrollWidth <= innerWidth")  # no sideways scroll
    record.assert_no_errors()
    record.close()
