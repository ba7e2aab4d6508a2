"""Accessibility audit of the real page with axe-core (WCAG 2.0/2.1/2.2 A and AA rules):
every mode and audience, desktop and phone sizes, and the kiosk: no serious or critical
violation."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.test_browser import open_page, wait_for

pytestmark = pytest.mark.browser

TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]


def _axe_script() -> Path:
    axe = pytest.importorskip("axe_playwright_python", reason="axe-playwright-python is not installed")
    return Path(axe.__file__).parent / "axe.min.js"


def audit(page) -> list[dict]:
    """axe-core's serious and critical violations on ``page`` now, each with its nodes."""
    page.add_script_tag(path=str(_axe_script()))
    result = page.evaluate("(tags) => axe.run(document, {runOnly: {type: 'tag', values: tags}})", TAGS)
    return [{"id": v["id"], "impact": v["impact"], "help": v["help"],
             "nodes": [n["target"] for n in v["nodes"]][:5]}
            for v in result["violations"] if v["impact"] in ("serious", "critical")]


CASES = {
    "story-patient-desktop": ("?audience=patient", (1280, 720)),
    "story-student-desktop": ("?audience=student", (1280, 720)),
    "practice-desktop": ("?audience=student&mode=practice", (1280, 720)),
    "quiz-desktop": ("?audience=student&mode=quiz", (1280, 720)),
    "story-patient-phone": ("?audience=patient", (390, 844)),
    "practice-phone": ("?audience=student&mode=practice", (390, 844)),
}


@pytest.mark.parametrize("case", list(CASES))
def test_no_serious_accessibility_violations(chromium_browser, vp3d_server, case):
    query, size = CASES[case]
    record = open_page(chromium_browser, vp3d_server + query, size=size)
    try:
        if "mode=quiz" in query:
            wait_for(lambda: record.page.locator("#vp3d-quiz").count() > 0, 60, "the quiz")
        found = audit(record.page)
        assert found == [], found
    finally:
        record.close()


def test_kiosk_has_no_serious_accessibility_violations(chromium_browser, kiosk_server):
    record = open_page(chromium_browser, kiosk_server, size=(1920, 1080))
    try:
        found = audit(record.page)
        assert found == [], found
    finally:
        record.close()


def test_the_page_lets_people_zoom(chromium_browser, vp3d_server):
    """No maximum-scale or user-scalable=no in the viewport: pinch-zoom is allowed."""
    record = open_page(chromium_browser, vp3d_server, size=(390, 844))
    try:
        content = record.page.evaluate("document.querySelector('meta[name=viewport]').content")
        assert "maximum-scale" not in content and "user-scalable=no" not in content, content
        assert "width=device-width" in content
    finally:
        record.close()


SIZES = {"phone": (390, 844), "phone-landscape": (844, 390), "tablet": (768, 1024),
         "tablet-landscape": (1024, 768)}
MODES = {"story": "?audience=patient", "practice": "?audience=student&mode=practice",
         "quiz": "?audience=student&mode=quiz"}


@pytest.mark.parametrize("size", list(SIZES))
def test_nothing_overflows_sideways_on_phones_and_tablets(chromium_browser, vp3d_server, size):
    """In every mode the page is no wider than the screen, the 3-D view fills the width on a
    phone, and the narration (or the practice guide, or the quiz) is reachable by scrolling."""
    width, height = SIZES[size]
    for mode, query in MODES.items():
        record = open_page(chromium_browser, vp3d_server + query, size=(width, height))
        try:
            page = record.page
            if mode == "quiz":
                wait_for(lambda: page.locator("#vp3d-quiz").count() > 0, 60, "the quiz")
            wide = page.evaluate("Math.max(document.documentElement.scrollWidth, document.body.scrollWidth)")
            assert wide <= width, (size, mode, wide)
            if mode != "quiz" and width < 900:
                view = page.locator("#vp3d-view").bounding_box()
                assert view["width"] >= width - 2, (size, mode, view)
            region = {"story": "#vp3d-narration", "practice": "#vp3d-pr-guide", "quiz": "#vp3d-quiz"}[mode]
            page.locator(region).scroll_into_view_if_needed()
            box = page.locator(region).bounding_box()
            assert box and box["width"] > (0.8 * width if width < 900 else 250), (size, mode, box)
        finally:
            record.close()


def test_kiosk_reads_from_two_metres(chromium_browser, kiosk_server):
    """At 1920 x 1080 the kiosk's captions are 32 px or more, its step title larger, and no
    control that makes no sense at an event (Save picture, the audience choice)."""
    record = open_page(chromium_browser, kiosk_server, size=(1920, 1080))
    try:
        page = record.page
        caption = page.evaluate("parseFloat(getComputedStyle(document.querySelector('#vp3d-captions p')).fontSize)")
        title = page.evaluate("parseFloat(getComputedStyle(document.querySelector('#vp3d-step-title')).fontSize)")
        assert caption >= 32.0 and title > caption, (caption, title)
        assert page.locator("#vp3d-save").count() == 0 and page.locator("#vp3d-choices").count() == 0
    finally:
        record.close()


def test_quiz_after_answers_has_no_serious_violations(chromium_browser, vp3d_server):
    """After a right and a wrong answer: feedback, explanation and sources shown."""
    from vp3d.quiz.questions import load_quiz

    quiz = load_quiz()
    first, second = quiz.questions[0], quiz.questions[1]
    record = open_page(chromium_browser, vp3d_server + "?audience=student&mode=quiz")
    try:
        page = record.page
        wait_for(lambda: page.locator(".vp3d-qz-card").count() == len(quiz), 60, "the quiz")
        page.evaluate(f"window.trame.trigger('quiz_answer', ['{first.id}', {first.answer}])")
        page.evaluate(f"window.trame.trigger('quiz_answer', ['{second.id}', "
                      f"{(second.answer + 1) % len(second.choices)}])")
        wait_for(lambda: "Incorrect" in page.locator(f"#vp3d-qf-{second.id}").inner_text(), 20,
                 "the feedback")
        found = audit(page)
        assert found == [], found
    finally:
        record.close()


def test_practice_score_dialog_has_no_serious_violations(chromium_browser, vp3d_server):
    """The end-of-practice dialog open (a modal over the page), after a needle step and cement."""
    record = open_page(chromium_browser, vp3d_server + "?audience=student&mode=practice")
    try:
        page = record.page
        wait_for(lambda: page.evaluate("window.trame.state.get('pr_ready')") is True, 60, "the practice")
        page.evaluate("window.trame.trigger('practice_advance', [10])")
        wait_for(lambda: page.evaluate("window.trame.state.get('pr_depth_mm')") >= 10, 30, "the needle step")
        page.locator("#vp3d-pr-score").click()
        page.locator("#vp3d-pr-score-card").wait_for(timeout=20_000)
        found = audit(page)
        assert found == [], found
    finally:
        record.close()
