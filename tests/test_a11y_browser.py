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
