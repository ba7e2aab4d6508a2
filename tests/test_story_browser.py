"""The whole story in headless Chromium: every step of both scenes for patients and students,
with narration, sources, audio, fluoroscopy and the cement counter; and the kiosk loop."""

from __future__ import annotations

import io
import urllib.request
import wave

import pytest

from tests.test_browser import canvas_drawn, open_page, ready, step_counter, wait_for

pytestmark = pytest.mark.browser



def fetch_wav_seconds(base_url: str, src: str) -> float:
    with urllib.request.urlopen(base_url.rstrip("/") + src, timeout=30) as response:
        assert response.status == 200
        assert response.headers["Content-Type"].startswith("audio/")
        body = response.read()
    with wave.open(io.BytesIO(body)) as w:
        return w.getnframes() / float(w.getframerate())


def audio_src(page) -> str | None:
    src = page.locator("#vp3d-audio").get_attribute("src")
    return src or None


def cement_counter_rises(page) -> None:
    """Replay the step and watch the millilitre counter go up."""
    page.get_by_role("button", name="Play").click()
    ml = lambda: float(page.locator("#vp3d-ml").inner_text().split()[0])  # noqa: E731
    wait_for(lambda: ml() < 1.0, 15, "the step to replay from the start")
    readings = []

    def sample():
        readings.append(float(page.locator("#vp3d-ml").inner_text().split()[0]))
        return len(readings) >= 4 and readings[-1] > readings[0] + 0.2

    wait_for(sample, 30, "the cement counter to rise", 0.7)
    page.get_by_role("button", name="Pause").click()
    assert readings == sorted(readings), readings


# Each procedure and each audience once (the other two pairings share their steps and add
# minutes; tests/test_storyboard.py renders every step of both for both audiences).
@pytest.mark.parametrize("procedure, audience", [("vertebroplasty", "patient"), ("kyphoplasty", "student")])
def test_every_step(chromium_browser, vp3d_server, audience, procedure):
    record = open_page(chromium_browser,
                       f"{vp3d_server}?procedure={procedure}&audience={audience}&step=1")
    page = record.page
    try:
        first, count = step_counter(page)
        assert first == 1 and count >= 11
        narrations, fluoro = [], []
        for index in range(count):
            if index:
                title = page.locator("#vp3d-step-title").inner_text()
                page.get_by_role("button", name="Next step").click()
                wait_for(lambda: step_counter(page)[0] == index + 1
                         and page.locator("#vp3d-step-title").inner_text() != title,
                         15, f"step {index + 1}")
            wait_for(lambda: ready(page), 30, "the step")
            narration = page.get_by_role("region", name="Narration").inner_text()
            assert narration not in narrations, f"step {index + 1} repeats a narration"
            narrations.append(narration)
            assert page.locator(".vp3d-source").count() > 0, f"step {index + 1} shows no sources"
            assert canvas_drawn(page), f"3D view blank at step {index + 1}"
            # The neural voice speaks a long student step in seconds on a quiet machine, in a
            # minute or more on a busy one.
            src = wait_for(lambda: audio_src(page), 180, f"the narration audio of step {index + 1}")
            assert fetch_wav_seconds(vp3d_server, src) > 1.0
            images = page.locator("#vp3d-fluoro img")
            if images.count():
                alts = [images.nth(i).get_attribute("alt") for i in range(images.count())]
                assert set(alts) <= {"Fluoroscopy AP", "Fluoroscopy lateral"}
                fluoro.append({a: images.nth(i).get_attribute("src") for i, a in enumerate(alts)})
        assert len(fluoro) >= 3, "needle and cement steps show fluoroscopy"
        for before, after in zip(fluoro, fluoro[1:]):
            shared = set(before) & set(after)
            assert any(before[k] != after[k] for k in shared) or not shared, \
                "fluoroscopy did not change between steps"
        record.assert_no_errors()
    finally:
        record.close()


@pytest.mark.parametrize("procedure, step", [("vertebroplasty", "cement"), ("kyphoplasty", "cavity_cement")])
def test_cement_counter_rises(chromium_browser, vp3d_server, procedure, step):
    record = open_page(chromium_browser, f"{vp3d_server}?procedure={procedure}&audience=student&step={step}")
    page = record.page
    try:
        assert page.locator("#vp3d-ml").is_visible()
        cement_counter_rises(page)
        assert any("leak" in line.lower() for line in
                   page.locator("#vp3d-readouts").inner_text().splitlines())
        record.assert_no_errors()
    finally:
        record.close()


def test_kiosk_loops_and_starts_over_when_idle(chromium_browser, kiosk_server):
    record = open_page(chromium_browser, kiosk_server, size=(1920, 1080))
    page = record.page
    try:
        assert page.locator("#vp3d-choices").count() == 0  # no clinician choices on a kiosk
        for control in ("#vp3d-prev", "#vp3d-play", "#vp3d-next", "#vp3d-mute"):
            box = page.locator(control).bounding_box()
            assert box["height"] >= 48 and box["width"] >= 48, (control, box)
        size = page.evaluate("parseFloat(getComputedStyle(document.querySelector('#vp3d-captions')).fontSize)")
        assert size >= 24
        count = step_counter(page)[1]
        wait_for(lambda: step_counter(page)[0] == count, 120, "the kiosk to reach the last step", 0.1)
        wait_for(lambda: step_counter(page)[0] == 1, 30, "the kiosk to wrap to the first step", 0.1)
        page.get_by_role("button", name="Pause").click()
        wait_for(lambda: page.get_by_role("button", name="Play").count() == 1, 10, "the pause")
        page.get_by_role("button", name="Next step").click()
        # KIOSK_ENV: 4 s without a touch and the kiosk starts over, playing.
        wait_for(lambda: page.get_by_role("button", name="Pause").count() == 1, 20,
                 "the idle kiosk to start playing again")
        record.assert_no_errors()
    finally:
        record.close()
