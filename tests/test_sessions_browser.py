"""Separate browser sessions: two people on one server never move each other's story."""

from __future__ import annotations

import pytest

from tests.test_browser import open_page, step_counter, wait_for

pytestmark = pytest.mark.browser


def test_two_sessions_act_at_once_without_touching_each_other(chromium_browser, vp3d_server):
    a = open_page(chromium_browser, vp3d_server + "?level=L1&audience=student")
    b = open_page(chromium_browser, vp3d_server + "?level=L2&audience=patient")
    try:
        # Both act at the same time: A goes forward two steps, B one.
        a.page.get_by_role("button", name="Next step").click()
        b.page.get_by_role("button", name="Next step").click()
        a.page.get_by_role("button", name="Next step").click()
        wait_for(lambda: step_counter(a.page)[0] == 3, 30, "A on step 3")
        wait_for(lambda: step_counter(b.page)[0] == 2, 30, "B on step 2")
        a.page.wait_for_timeout(1500)
        assert step_counter(a.page)[0] == 3 and step_counter(b.page)[0] == 2
        # Each keeps its own level and audience.
        assert a.page.locator("#vp3d-level-label").inner_text().startswith("L1")
        assert b.page.locator("#vp3d-level-label").inner_text().startswith("L2")
        # A session that goes away leaves the other running.
        a.close()
        b.page.get_by_role("button", name="Next step").click()
        wait_for(lambda: step_counter(b.page)[0] == 3, 30, "B on step 3 after A left")
        b.assert_no_errors()
    finally:
        b.close()


def test_closed_sessions_free_what_they_held(chromium_browser, vp3d_server):
    """Sessions opened and closed one after another (story and practice) leave no app, no
    trame server behind, and the server's memory flat (<= 1 MB per closed session)."""
    import json
    import urllib.request

    def status() -> dict:
        with urllib.request.urlopen(vp3d_server.rstrip("/") + "/status", timeout=10) as response:
            return json.load(response)

    def one(i: int) -> None:
        query = "?audience=student&mode=practice" if i % 2 else "?audience=student"
        record = open_page(chromium_browser, vp3d_server + query)
        record.close()
        wait_for(lambda: status()["sessions"] == 0, 30, "the session to close")

    for i in range(2):  # warm: the shared model built, caches filled (story and practice)
        one(i)
    before = status()
    for i in range(6):
        one(i)
    after = status()
    assert after["closed"] >= before["closed"] + 6
    assert after["apps_in_memory"] == 0 and after["trame_servers"] == 0, after
    assert 1 <= after["models_cached"] <= 4
    growth = (after["rss_mb"] - before["rss_mb"]) / 6  # a leak was 20 MB per session
    assert growth <= 1.0, (before, after)
